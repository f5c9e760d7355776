// The plugin loader: dlopen and the checks that refuse a broken plugin, the
// instance guard (timing, bypass, disabling) and the codec adapters that make
// a plugin's C codec objects look like tutti::encoder / tutti::decoder.
#include "tutti/plugin_host.hpp"

#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <new>
#include <vector>

#include "tutti/codec.hpp"
#include "tutti/detail/elf_check.hpp"

TUTTI_BEGIN_NAMESPACE

namespace {

constexpr std::size_t error_capacity = 512;

// Calls `f(buffer, size)` with a zeroed message buffer and returns what the plugin wrote.
template <class F>
std::int32_t with_message(std::string* error, const std::string& prefix, F&& f) {
    char buffer[error_capacity] = {};
    const std::int32_t r = f(buffer, sizeof buffer);
    if (r < 0 && error) {
        buffer[error_capacity - 1] = '\0';
        *error = prefix + (buffer[0] ? buffer : to_string(static_cast<status>(r)));
    }
    return r;
}

// A plugin's code as a status; unknown negative codes become internal_error.
status to_status(std::int32_t code) {
    if (code >= 0) return status::ok;
    if (code < static_cast<std::int32_t>(status::internal_error)) return status::internal_error;
    return static_cast<status>(code);
}

std::string version_text(const tutti_plugin_version_t& v) {
    return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.revision);
}

const char* safe(const char* s) { return s ? s : ""; }

}  // namespace

// ---------------------------------------------------------------------------
// Instances

struct plugin_instance::access {
    static std::shared_ptr<plugin_instance> make(plugin_kind kind, std::string id, std::shared_ptr<plugin> owner,
                                                 const tutti_processor_t* p, const tutti_tap_t* t) {
        std::shared_ptr<plugin_instance> inst(new plugin_instance());
        inst->kind_ = kind;
        inst->id_ = std::move(id);
        inst->owner_ = std::move(owner);
        inst->processor_ = p;
        inst->tap_ = t;
        return inst;
    }
};

plugin_instance::~plugin_instance() {
    deactivate();
    if (processor_) processor_->destroy(processor_);
    if (tap_) tap_->destroy(tap_);
}

status plugin_instance::set_param(std::string_view key, std::string_view value, std::string* error) {
    if (active_) {
        if (error) *error = "parameters can only be set before activation (the instance is attached or active)";
        return status::invalid_argument;
    }
    const std::string k(key), v(value);
    const std::string prefix = id_ + ": ";
    const std::int32_t r = with_message(error, prefix, [&](char* buf, std::size_t n) {
        return processor_ ? processor_->set_param(processor_, k.c_str(), v.c_str(), buf, n)
                          : tap_->set_param(tap_, k.c_str(), v.c_str(), buf, n);
    });
    return to_status(r);
}

std::vector<tutti_param_info_t> plugin_instance::params() const {
    const void* ext = processor_ ? (processor_->get_extension ? processor_->get_extension(processor_, TUTTI_EXT_PARAMS) : nullptr)
                                 : (tap_->get_extension ? tap_->get_extension(tap_, TUTTI_EXT_PARAMS) : nullptr);
    std::vector<tutti_param_info_t> out;
    const auto* params = static_cast<const tutti_params_extension_t*>(ext);
    if (!params || !params->count || !params->get) return out;
    for (std::uint32_t i = 0, n = params->count(); i < n; ++i) {
        tutti_param_info_t info{};
        if (params->get(i, &info) == TUTTI_PLUGIN_OK && info.key) out.push_back(info);
    }
    return out;
}

status plugin_instance::activate(std::uint32_t sample_rate_hz, std::uint32_t frames, std::string* error) {
    if (active_) {
        if (sample_rate_hz == rate_ && frames == frames_) return status::ok;
        if (error) *error = id_ + ": already active at another rate or frame count";
        return status::invalid_argument;
    }
    if (sample_rate_hz < 8000 || sample_rate_hz > 48000 || frames == 0 || frames > sample_rate_hz) {
        if (error) *error = id_ + ": activation needs 8000..48000 Hz and 1..one second of frames";
        return status::invalid_argument;
    }
    try {
        if (kind_ == plugin_kind::processor) scratch_ = aligned_buffer<float>(frames);
    } catch (const std::bad_alloc&) {
        if (error) *error = "out of memory";
        return status::out_of_memory;
    }
    const std::int32_t r = with_message(error, id_ + ": activation failed: ", [&](char* buf, std::size_t n) {
        return processor_ ? processor_->activate(processor_, sample_rate_hz, frames, buf, n)
                          : tap_->activate(tap_, sample_rate_hz, frames, buf, n);
    });
    if (r < 0) {
        scratch_ = aligned_buffer<float>();
        return to_status(r);
    }
    active_ = true;
    rate_ = sample_rate_hz;
    frames_ = frames;
    failures_in_row_ = 0;
    disabled_.store(false, std::memory_order_relaxed);
    return status::ok;
}

void plugin_instance::deactivate() noexcept {
    if (!active_ || attached()) return;  // a room's tick may be calling it
    if (processor_) processor_->deactivate(processor_);
    else tap_->deactivate(tap_);
    active_ = false;
    scratch_ = aligned_buffer<float>();
}

plugin_instance_stats plugin_instance::stats() const noexcept {
    plugin_instance_stats s;
    s.calls = calls_.load(std::memory_order_relaxed);
    s.errors = errors_.load(std::memory_order_relaxed);
    s.overruns = overruns_.load(std::memory_order_relaxed);
    s.bypassed = bypassed_.load(std::memory_order_relaxed);
    s.disabled = disabled_.load(std::memory_order_relaxed);
    s.last_error = last_error_.load(std::memory_order_relaxed);
    s.max_call_ns = max_ns_.load(std::memory_order_relaxed);
    s.total_call_ns = total_ns_.load(std::memory_order_relaxed);
    return s;
}

// Counters are written by the tick thread only; relaxed load+store keeps
// them cheap and readable from any thread.
namespace {
void bump(std::atomic<std::uint64_t>& a, std::uint64_t by = 1) noexcept {
    a.store(a.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}
}  // namespace

bool plugin_instance::account(std::int32_t result, std::uint64_t ns) noexcept {
    bump(calls_);
    bump(total_ns_, ns);
    if (ns > max_ns_.load(std::memory_order_relaxed)) max_ns_.store(ns, std::memory_order_relaxed);
    bool good = true;
    if (result < 0) {
        bump(errors_);
        last_error_.store(result, std::memory_order_relaxed);
        good = false;
    }
    if (guard_.budget_us != 0 && ns > std::uint64_t{guard_.budget_us} * 1000) {
        bump(overruns_);
        good = false;
    }
    if (good) {
        failures_in_row_ = 0;
        return true;
    }
    bump(bypassed_);
    if (guard_.max_failures_in_row != 0 && ++failures_in_row_ >= guard_.max_failures_in_row)
        disabled_.store(true, std::memory_order_relaxed);
    return false;
}

void plugin_instance::process(float* audio, std::size_t frames) noexcept {
    if (!processor_ || !active_ || frames != frames_) return;
    if (disabled_.load(std::memory_order_relaxed)) {
        bump(bypassed_);
        return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const std::int32_t r = processor_->process(processor_, audio, scratch_.data(), frames_);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    if (account(r, static_cast<std::uint64_t>(ns))) std::memcpy(audio, scratch_.data(), frames * sizeof(float));
}

void plugin_instance::process(const float* audio, std::size_t frames) noexcept {
    if (!tap_ || !active_ || frames != frames_) return;
    if (disabled_.load(std::memory_order_relaxed)) {
        bump(bypassed_);
        return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const std::int32_t r = tap_->process(tap_, audio, frames_);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    (void)account(r, static_cast<std::uint64_t>(ns));
}

// ---------------------------------------------------------------------------
// Codec adapters

namespace {

bool valid_codec_format(const tutti_codec_format_t& f) {
    const audio_format a{f.sample_rate_hz, f.channels, f.frame_us};
    return a.valid() && f.sample_rate_hz <= 48000 && f.channels <= 2;
}

class plugin_encoder final : public encoder {
public:
    plugin_encoder(std::shared_ptr<plugin> owner, const tutti_codec_encoder_t* e) : owner_(std::move(owner)), e_(e) {}
    ~plugin_encoder() override { e_->destroy(e_); }
    audio_format format() const noexcept override { return {e_->format.sample_rate_hz, e_->format.channels, e_->format.frame_us}; }
    std::ptrdiff_t encode(interleaved_view<const float> pcm, std::span<std::uint8_t> payload) noexcept override {
        if (pcm.frames() != format().frame_samples() || pcm.channels() != e_->format.channels) return as_count(status::invalid_argument);
        const auto capacity = static_cast<std::uint32_t>(std::min<std::size_t>(payload.size(), UINT32_MAX));
        const std::int32_t r = e_->encode(e_, pcm.data(), static_cast<std::uint32_t>(pcm.frames()), payload.data(), capacity);
        if (r > static_cast<std::int32_t>(capacity)) return as_count(status::internal_error);  // a plugin that overran its buffer
        return r;
    }
    void reset() noexcept override { e_->reset(e_); }

private:
    std::shared_ptr<plugin> owner_;  // keeps the shared object mapped while the encoder lives
    const tutti_codec_encoder_t* e_;
};

class plugin_decoder final : public decoder {
public:
    plugin_decoder(std::shared_ptr<plugin> owner, const tutti_codec_decoder_t* d, aligned_buffer<float> last)
        : owner_(std::move(owner)), d_(d), last_(std::move(last)) {}
    ~plugin_decoder() override { d_->destroy(d_); }
    audio_format format() const noexcept override { return {d_->format.sample_rate_hz, d_->format.channels, d_->format.frame_us}; }
    std::ptrdiff_t frames_in(std::span<const std::uint8_t> payload) const noexcept override {
        return d_->frames_in(d_, payload.data(), static_cast<std::uint32_t>(payload.size()));
    }
    std::ptrdiff_t decode(std::span<const std::uint8_t> payload, interleaved_view<float> pcm) noexcept override {
        if (pcm.channels() != d_->format.channels) return as_count(status::invalid_argument);
        const std::int32_t r = d_->decode(d_, payload.data(), static_cast<std::uint32_t>(payload.size()), pcm.data(),
                                          static_cast<std::uint32_t>(pcm.frames()));
        if (r > 0) {  // remember the end for the host's own concealment
            if (static_cast<std::size_t>(r) > pcm.frames()) return as_count(status::internal_error);
            const std::size_t n = std::min(last_.size(), static_cast<std::size_t>(r) * pcm.channels());
            std::memcpy(last_.data(), pcm.data() + static_cast<std::size_t>(r) * pcm.channels() - n, n * sizeof(float));
            last_frames_ = n / pcm.channels();
            fade_ = 1.0f;
        }
        return r;
    }
    std::ptrdiff_t conceal(interleaved_view<float> pcm) noexcept override {
        if (d_->conceal) {
            const std::int32_t r = d_->conceal(d_, pcm.data(), static_cast<std::uint32_t>(pcm.frames()));
            if (r >= 0) return static_cast<std::ptrdiff_t>(pcm.frames());
        }
        // The plugin has none: repeat the last decoded audio, fading out over
        // about three frames (a crude PLC that never clicks to silence).
        const std::size_t ch = pcm.channels();
        for (std::size_t i = 0; i < pcm.frames(); ++i) {
            const std::size_t src = last_frames_ ? (i % last_frames_) : 0;
            for (std::size_t c = 0; c < ch; ++c) pcm.data()[i * ch + c] = last_frames_ ? last_[src * ch + c] * fade_ : 0.0f;
            fade_ = std::max(0.0f, fade_ - 1.0f / static_cast<float>(3 * std::max<std::size_t>(pcm.frames(), 1)));
        }
        return static_cast<std::ptrdiff_t>(pcm.frames());
    }
    void reset() noexcept override {
        d_->reset(d_);
        last_frames_ = 0;
        fade_ = 0.0f;
    }

private:
    std::shared_ptr<plugin> owner_;
    const tutti_codec_decoder_t* d_;
    aligned_buffer<float> last_;  // one nominal frame of the last decoded audio
    std::size_t last_frames_ = 0;
    float fade_ = 0.0f;
};

// The SDP format as the C struct, pointing into `format` (valid while it is).
struct c_sdp {
    std::vector<tutti_fmtp_param_t> params;
    tutti_sdp_format_t format{};
    c_sdp(const sdp_format& f, const codec_options& options) {
        for (const fmtp_param& p : f.fmtp) params.push_back({p.key.c_str(), p.value.c_str()});
        format.payload_type = f.payload_type;
        format.encoding_name = f.encoding_name.c_str();
        format.clock_rate_hz = f.clock_rate_hz;
        format.channels = f.channels;
        format.fmtp = params.data();
        format.fmtp_count = static_cast<std::uint32_t>(params.size());
        format.ptime_ms = f.ptime_ms;
        format.maxptime_ms = f.maxptime_ms;
        format.default_frame_us = options.default_frame_us;
    }
};

}  // namespace

// ---------------------------------------------------------------------------
// Loading

struct plugin::access {
    static status fail(std::string* error, const std::string& path, status s, const std::string& why) {
        if (error) *error = "plugin " + path + ": " + why;
        return s;
    }

    static status make_encoder(void* context, const sdp_format& format, const codec_options& options,
                               std::unique_ptr<encoder>& out, std::string* error) {
        auto* self = static_cast<plugin*>(context);
        try {
            c_sdp c(format, options);
            const tutti_codec_encoder_t* e = nullptr;
            const std::int32_t r = with_message(error, self->entry_->id + std::string(": "), [&](char* buf, std::size_t n) {
                return self->codecs_->create_encoder(self->codecs_, &c.format, &e, buf, n);
            });
            if (r < 0) return to_status(r);
            if (!e || !e->encode || !e->reset || !e->destroy || !valid_codec_format(e->format)) {
                if (e && e->destroy) e->destroy(e);
                if (error) *error = std::string(self->entry_->id) + ": the plugin's encoder has a NULL function or an invalid format";
                return status::internal_error;
            }
            out = std::make_unique<plugin_encoder>(self->shared_from_this(), e);
            return status::ok;
        } catch (const std::bad_alloc&) {
            if (error) *error = "out of memory";
            return status::out_of_memory;
        }
    }

    static status make_decoder(void* context, const sdp_format& format, const codec_options& options,
                               std::unique_ptr<decoder>& out, std::string* error) {
        auto* self = static_cast<plugin*>(context);
        try {
            c_sdp c(format, options);
            const tutti_codec_decoder_t* d = nullptr;
            const std::int32_t r = with_message(error, self->entry_->id + std::string(": "), [&](char* buf, std::size_t n) {
                return self->codecs_->create_decoder(self->codecs_, &c.format, &d, buf, n);
            });
            if (r < 0) return to_status(r);
            if (!d || !d->frames_in || !d->decode || !d->reset || !d->destroy || !valid_codec_format(d->format)) {
                if (d && d->destroy) d->destroy(d);
                if (error) *error = std::string(self->entry_->id) + ": the plugin's decoder has a NULL function or an invalid format";
                return status::internal_error;
            }
            const audio_format f{d->format.sample_rate_hz, d->format.channels, d->format.frame_us};
            aligned_buffer<float> last;
            try {
                last = aligned_buffer<float>(f.frame_samples_all_channels());
            } catch (...) {
                d->destroy(d);
                throw;
            }
            out = std::make_unique<plugin_decoder>(self->shared_from_this(), d, std::move(last));
            return status::ok;
        } catch (const std::bad_alloc&) {
            if (error) *error = "out of memory";
            return status::out_of_memory;
        }
    }

    // Looks up and checks the three factories.
    static status factories(plugin& p, std::string* error) {
        const auto check_version = [&](const tutti_plugin_version_t& v, const char* what) {
            if (tutti_plugin_version_is_compatible(v)) return status::ok;
            return fail(error, p.path_, status::unsupported,
                        std::string("its ") + what + " has ABI version " + version_text(v) + ", this host supports " +
                            std::to_string(TUTTI_PLUGIN_VERSION_MAJOR) + ".0 to " + std::to_string(TUTTI_PLUGIN_VERSION_MAJOR) +
                            "." + std::to_string(TUTTI_PLUGIN_VERSION_MINOR));
        };
        const auto* pf = static_cast<const tutti_processor_factory_t*>(p.entry_->get_factory(TUTTI_PROCESSOR_FACTORY_ID));
        if (pf) {
            if (status s = check_version(pf->abi_version, "processor factory"); s != status::ok) return s;
            if (!pf->count || !pf->get_descriptor || !pf->create)
                return fail(error, p.path_, status::malformed, "its processor factory has a NULL function pointer");
        }
        const auto* tf = static_cast<const tutti_tap_factory_t*>(p.entry_->get_factory(TUTTI_TAP_FACTORY_ID));
        if (tf) {
            if (status s = check_version(tf->abi_version, "tap factory"); s != status::ok) return s;
            if (!tf->count || !tf->get_descriptor || !tf->create)
                return fail(error, p.path_, status::malformed, "its tap factory has a NULL function pointer");
        }
        const auto* cf = static_cast<const tutti_codec_factory_t*>(p.entry_->get_factory(TUTTI_CODEC_FACTORY_ID));
        if (cf) {
            if (status s = check_version(cf->abi_version, "codec factory"); s != status::ok) return s;
            if (!cf->count || !cf->get_encoding_name || !cf->create_encoder || !cf->create_decoder)
                return fail(error, p.path_, status::malformed, "its codec factory has a NULL function pointer");
        }
        if (!pf && !tf && !cf)
            return fail(error, p.path_, status::malformed, "it offers no processor, tap or codec factory");
        p.processors_ = pf;
        p.taps_ = tf;
        p.codecs_ = cf;
        return status::ok;
    }
};

namespace {
const tutti_plugin_host_t host_info = {
    TUTTI_PLUGIN_VERSION_INIT, "tutti", "0.1.0", nullptr,
    [](const tutti_plugin_host_t*, const char*) -> const void* { return nullptr; },
};
}  // namespace

status plugin::load(const std::string& path, std::shared_ptr<plugin>& out, std::string* error) {
    using a = plugin::access;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return a::fail(error, path, status::not_found, "no such file");
    if (!S_ISREG(st.st_mode)) return a::fail(error, path, status::malformed, "not a regular file");
    // dlopen trusts the file: check its structure first, so that a truncated
    // or damaged object is refused here rather than crashing the host in the
    // dynamic loader (elf_check.hpp).
    constexpr off_t max_plugin_bytes = off_t{1} << 30;
    if (st.st_size > max_plugin_bytes) return a::fail(error, path, status::malformed, "larger than 1 GiB");
    try {
        std::ifstream in(path, std::ios::binary);
        std::vector<std::uint8_t> bytes(static_cast<std::size_t>(st.st_size));
        if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size())))
            return a::fail(error, path, status::io_error, "cannot be read");
        std::string why;
        if (status s = detail::check_shared_object(bytes, &why); s != status::ok) return a::fail(error, path, s, why);
    } catch (const std::bad_alloc&) {
        if (error) *error = "out of memory";
        return status::out_of_memory;
    }
    std::shared_ptr<plugin> p;
    try {
        p.reset(new plugin());
        p->path_ = path;
    } catch (const std::bad_alloc&) {
        if (error) *error = "out of memory";
        return status::out_of_memory;
    }
    // RTLD_LOCAL: two plugins may use the same symbol names (and libraries)
    // without seeing each other's.
    p->handle_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!p->handle_) {
        const char* why = ::dlerror();
        return a::fail(error, path, status::malformed, std::string("cannot be loaded: ") + safe(why));
    }
    void* sym = ::dlsym(p->handle_, TUTTI_PLUGIN_ENTRY_SYMBOL);
    if (!sym) return a::fail(error, path, status::not_found, "it does not export the symbol " TUTTI_PLUGIN_ENTRY_SYMBOL);
    const auto* entry = static_cast<const tutti_plugin_entry_t*>(sym);
    if (!tutti_plugin_version_is_compatible(entry->abi_version))
        return a::fail(error, path, status::unsupported,
                       "it was built for plugin ABI " + version_text(entry->abi_version) + ", this host supports " +
                           std::to_string(TUTTI_PLUGIN_VERSION_MAJOR) + ".0 to " + std::to_string(TUTTI_PLUGIN_VERSION_MAJOR) + "." +
                           std::to_string(TUTTI_PLUGIN_VERSION_MINOR));
    const char* missing = !entry->id ? "id" : !entry->name ? "name" : !entry->vendor ? "vendor" : !entry->version ? "version"
                        : !entry->init ? "init" : !entry->deinit ? "deinit" : !entry->get_factory ? "get_factory" : nullptr;
    if (missing) return a::fail(error, path, status::malformed, std::string("its entry's ") + missing + " is NULL");
    p->entry_ = entry;
    char buffer[error_capacity] = {};
    const std::int32_t r = entry->init(&host_info, buffer, sizeof buffer);
    if (r < 0) {
        buffer[error_capacity - 1] = '\0';
        return a::fail(error, path, to_status(r), std::string("init failed: ") + (buffer[0] ? buffer : to_string(to_status(r))));
    }
    p->initialised_ = true;
    if (status s = a::factories(*p, error); s != status::ok) return s;
    p->codec_factory_ = {&a::make_encoder, &a::make_decoder, p.get()};
    out = std::move(p);
    return status::ok;
}

plugin::~plugin() {
    if (initialised_) entry_->deinit();
    if (handle_) ::dlclose(handle_);
}

namespace {
template <class Factory>
std::vector<std::string> descriptor_ids(const Factory* f) {
    std::vector<std::string> out;
    if (!f) return out;
    for (std::uint32_t i = 0, n = f->count(f); i < n; ++i)
        if (const tutti_plugin_descriptor_t* d = f->get_descriptor(f, i); d && d->id) out.emplace_back(d->id);
    return out;
}
}  // namespace

std::vector<std::string> plugin::processor_ids() const { return descriptor_ids(processors_); }
std::vector<std::string> plugin::tap_ids() const { return descriptor_ids(taps_); }
std::vector<std::string> plugin::codec_names() const {
    std::vector<std::string> out;
    if (!codecs_) return out;
    for (std::uint32_t i = 0, n = codecs_->count(codecs_); i < n; ++i)
        if (const char* name = codecs_->get_encoding_name(codecs_, i)) out.emplace_back(name);
    return out;
}

status plugin::create_processor(std::string_view id, std::shared_ptr<plugin_instance>& out, std::string* error) {
    const std::string name(id);
    if (!processors_) return access::fail(error, path_, status::not_found, "it makes no processors");
    const tutti_processor_t* p = nullptr;
    const std::int32_t r = with_message(error, "plugin " + path_ + ": ", [&](char* buf, std::size_t n) {
        return processors_->create(processors_, name.c_str(), &p, buf, n);
    });
    if (r < 0) return to_status(r);
    if (!p || !p->set_param || !p->activate || !p->deactivate || !p->process || !p->destroy) {
        if (p && p->destroy) p->destroy(p);
        return access::fail(error, path_, status::malformed, "its processor " + name + " has a NULL function pointer");
    }
    try {
        out = plugin_instance::access::make(plugin_kind::processor, name, shared_from_this(), p, nullptr);
    } catch (const std::bad_alloc&) {
        p->destroy(p);
        return status::out_of_memory;
    }
    return status::ok;
}

status plugin::create_tap(std::string_view id, std::shared_ptr<plugin_instance>& out, std::string* error) {
    const std::string name(id);
    if (!taps_) return access::fail(error, path_, status::not_found, "it makes no taps");
    const tutti_tap_t* t = nullptr;
    const std::int32_t r = with_message(error, "plugin " + path_ + ": ", [&](char* buf, std::size_t n) {
        return taps_->create(taps_, name.c_str(), &t, buf, n);
    });
    if (r < 0) return to_status(r);
    if (!t || !t->set_param || !t->activate || !t->deactivate || !t->process || !t->destroy) {
        if (t && t->destroy) t->destroy(t);
        return access::fail(error, path_, status::malformed, "its tap " + name + " has a NULL function pointer");
    }
    try {
        out = plugin_instance::access::make(plugin_kind::tap, name, shared_from_this(), nullptr, t);
    } catch (const std::bad_alloc&) {
        t->destroy(t);
        return status::out_of_memory;
    }
    return status::ok;
}

status plugin::register_codecs(codec_registry& registry, bool replace_existing, std::string* error) {
    if (!codecs_) return access::fail(error, path_, status::not_found, "it has no codec factory");
    for (const std::string& name : codec_names()) {
        const status s = replace_existing ? registry.replace(name, codec_factory_, error) : registry.add(name, codec_factory_, error);
        if (s != status::ok) return s;
    }
    return status::ok;
}

TUTTI_END_NAMESPACE
