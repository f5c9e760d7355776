// tutti/plugin_host.hpp: loading plugins (tutti/plugin.h) and running them safely.
//
// Flow position: beside the room. A host loads a shared object with
// plugin::load (dlopen, ABI and symbol checks), then either registers its
// codecs in a codec_registry (room::codecs()) or makes processor/tap
// instances, sets their key/value parameters and attaches them to a room
// (room::attach_plugin), which activates them at the room's mixing rate and
// calls them from the tick.
//
// Guarding the tick: every processor/tap call is timed with steady_clock. A
// call that returns an error or takes longer than plugin_guard::budget_us is a
// failure: a processor's output is discarded for that tick (its input passes
// unchanged), a tap's tick is lost. After plugin_guard::max_failures_in_row
// failures in a row the instance is disabled (never called again) and the room
// goes on. plugin_instance::stats() tells a host what happened. A plugin that
// blocks forever cannot be stopped from outside: that tick is lost with it.
//
// Lifetimes: a `plugin` stays loaded while any shared_ptr to it, any instance
// it made or any encoder/decoder made through register_codecs is alive. The
// codec factories it registers point at it without owning it: keep the plugin
// alive while the registry (or a room using it) may create codecs.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tutti/buffer.hpp"
#include "tutti/codec_registry.hpp"
#include "tutti/config.hpp"
#include "tutti/plugin.h"
#include "tutti/status.hpp"

TUTTI_BEGIN_NAMESPACE

/// What the host does about a slow or failing processor/tap. Plain value.
struct plugin_guard {
    /// Longest a process() call may take, in µs, before it counts as a failure
    /// (measured with steady_clock around the call). 0: no limit.
    std::uint32_t budget_us = 2000;
    /// Failures (errors or overruns) in a row after which the instance is
    /// disabled for good. 0: never disabled, only bypassed tick by tick.
    std::uint32_t max_failures_in_row = 3;
};

/// Counters of one processor/tap instance. A snapshot; see plugin_instance::stats().
struct plugin_instance_stats {
    std::uint64_t calls = 0;       ///< process() calls made
    std::uint64_t errors = 0;      ///< ... that returned a negative code
    std::uint64_t overruns = 0;    ///< ... that took longer than the budget
    std::uint64_t bypassed = 0;    ///< ticks whose output was discarded (errors + overruns), or skipped while disabled
    bool disabled = false;         ///< max_failures_in_row reached: no longer called
    std::int32_t last_error = 0;   ///< the last negative code returned (0 if none)
    std::uint64_t max_call_ns = 0; ///< slowest call
    std::uint64_t total_call_ns = 0;
};

/// Processor (changes audio) or tap (reads it).
enum class plugin_kind : std::uint8_t { processor, tap };

class plugin;

/// One processor or tap made by a plugin. Create with plugin::create_processor
/// or create_tap; share it with a room through room::attach_plugin (one room
/// and one place at a time). Set-up calls are [control-thread] and must not
/// overlap; stats() is [any-thread].
class plugin_instance {
public:
    ~plugin_instance();  ///< deactivates and destroys the plugin object [control-thread]
    plugin_instance(const plugin_instance&) = delete;
    plugin_instance& operator=(const plugin_instance&) = delete;

    plugin_kind kind() const noexcept { return kind_; }
    /// The descriptor id it was created from.
    const std::string& id() const noexcept { return id_; }
    /// The plugin that made it.
    const std::shared_ptr<plugin>& owner() const noexcept { return owner_; }

    /// Sets a parameter (both strings copied). Only while not active: returns
    /// invalid_argument otherwise, else the plugin's answer (not_found for an
    /// unknown key, invalid_argument for a bad value) with its sentence. [control-thread]
    [[nodiscard]] status set_param(std::string_view key, std::string_view value, std::string* error = nullptr);
    /// The parameters the plugin lists (TUTTI_EXT_PARAMS), empty when it lists none. [control-thread]
    std::vector<tutti_param_info_t> params() const;

    /// Allocates the plugin's state for `sample_rate_hz` and `frames` per call
    /// (one tick), and the host's scratch. room::attach_plugin does it; call it
    /// yourself only to use an instance outside a room. [control-thread]
    [[nodiscard]] status activate(std::uint32_t sample_rate_hz, std::uint32_t frames, std::string* error = nullptr);
    /// Frees what activate allocated (a recorder finishes its file). Does
    /// nothing while attached to a room. [control-thread]
    void deactivate() noexcept;
    bool active() const noexcept { return active_; }
    std::uint32_t sample_rate_hz() const noexcept { return rate_; }
    std::uint32_t frames() const noexcept { return frames_; }

    /// Changes the guard (before attaching). [control-thread]
    void set_guard(const plugin_guard& guard) noexcept { guard_ = guard; }
    const plugin_guard& guard() const noexcept { return guard_; }

    /// Counters (relaxed reads of what the tick writes). [any-thread]
    plugin_instance_stats stats() const noexcept;

    /// Runs a processor on one tick in place: on error, overrun or while
    /// disabled `audio` is left as it was. `frames` must equal frames().
    /// Never allocates. [tick-thread]
    void process(float* audio, std::size_t frames) noexcept;
    /// Hands one tick to a tap. Never allocates. [tick-thread]
    void process(const float* audio, std::size_t frames) noexcept;

    /// For room::attach_plugin: marks it attached; false when it already is. [control-thread]
    bool claim() noexcept { return !attached_.exchange(true, std::memory_order_acq_rel); }
    /// For the room: marks it detached once the tick no longer uses it. [control-thread]
    void release() noexcept { attached_.store(false, std::memory_order_release); }
    bool attached() const noexcept { return attached_.load(std::memory_order_acquire); }

    struct access;  // plugin_loader.cpp

private:
    plugin_instance() = default;
    bool account(std::int32_t result, std::uint64_t ns) noexcept;  // true when the call counts as good

    plugin_kind kind_ = plugin_kind::processor;
    std::string id_;
    std::shared_ptr<plugin> owner_;
    const tutti_processor_t* processor_ = nullptr;
    const tutti_tap_t* tap_ = nullptr;
    bool active_ = false;
    std::uint32_t rate_ = 0, frames_ = 0;
    plugin_guard guard_;
    aligned_buffer<float> scratch_;  // a processor's output, copied over the input when the call succeeds
    std::atomic<bool> attached_{false};
    std::uint32_t failures_in_row_ = 0;  // tick side
    std::atomic<std::uint64_t> calls_{0}, errors_{0}, overruns_{0}, bypassed_{0}, max_ns_{0}, total_ns_{0};
    std::atomic<std::int32_t> last_error_{0};
    std::atomic<bool> disabled_{false};
};

/// A loaded plugin shared object. [control-thread] unless said otherwise.
class plugin : public std::enable_shared_from_this<plugin> {
public:
    /// dlopens `path` (RTLD_NOW | RTLD_LOCAL) and checks it: the
    /// tutti_plugin_entry symbol, a compatible ABI version (same major, minor
    /// not above ours), non-null entry fields, init() success, and each
    /// factory's version and function pointers. On failure nothing stays
    /// loaded, `out` is unchanged and `*error` says what is wrong, naming the
    /// file. Returns ok; not_found (no such file, or no tutti_plugin_entry
    /// symbol); malformed (not a loadable shared object, or a NULL field);
    /// unsupported (an incompatible ABI version); or init()'s code.
    [[nodiscard]] static status load(const std::string& path, std::shared_ptr<plugin>& out, std::string* error = nullptr);
    ~plugin();  ///< calls deinit() and dlcloses
    plugin(const plugin&) = delete;
    plugin& operator=(const plugin&) = delete;

    const std::string& path() const noexcept { return path_; }
    const tutti_plugin_entry_t& entry() const noexcept { return *entry_; }

    /// Ids of the processors / taps it makes; SDP names of its codecs.
    std::vector<std::string> processor_ids() const;
    std::vector<std::string> tap_ids() const;
    std::vector<std::string> codec_names() const;

    /// Makes a processor or tap instance by descriptor id: not_found when the
    /// plugin has no such one; otherwise the plugin's answer, checked (a
    /// processor with a NULL process() is malformed). Allocates.
    [[nodiscard]] status create_processor(std::string_view id, std::shared_ptr<plugin_instance>& out,
                                          std::string* error = nullptr);
    [[nodiscard]] status create_tap(std::string_view id, std::shared_ptr<plugin_instance>& out, std::string* error = nullptr);

    /// Registers every codec of the plugin in `registry` (codec_registry::add,
    /// or replace when `replace_existing`), so that rooms create its encoders
    /// and decoders by SDP name. not_found when the plugin has no codec factory.
    [[nodiscard]] status register_codecs(codec_registry& registry, bool replace_existing = false,
                                         std::string* error = nullptr);

    struct access;  // plugin_loader.cpp

private:
    plugin() = default;
    std::string path_;
    void* handle_ = nullptr;
    const tutti_plugin_entry_t* entry_ = nullptr;
    bool initialised_ = false;
    const tutti_processor_factory_t* processors_ = nullptr;
    const tutti_tap_factory_t* taps_ = nullptr;
    const tutti_codec_factory_t* codecs_ = nullptr;
    codec_factory codec_factory_{};
};

TUTTI_END_NAMESPACE
