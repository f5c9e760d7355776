// tests/fuzz/plugin_codec_fuzz.cpp: libFuzzer target for a codec plugin
// reached through the plugin ABI (tutti/plugin.h), the way a room reaches it:
// plugin::load, register_codecs into a codec_registry, then the registry's
// encoder and decoder, which wrap the plugin's C function pointers with the
// host's checks (plugin_loader.cpp). The plugin is the GSM 06.10 example
// (examples/plugins/gsm_codec.c over Debian's libgsm).
//
// The input is a script: each op decodes a payload cut from the input (whole
// 33-byte frames, short, long or empty), asks frames_in, conceals a loss,
// decodes into a buffer too small, encodes input bytes read as floats (NaN,
// inf and huge values included) or resets. Checks: only documented statuses,
// decode never claims more frames than the buffer holds, and every sample is
// finite and within [-1, 1].
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tutti/codec_registry.hpp"
#include "tutti/plugin_host.hpp"

namespace {

struct codec_pair {
    std::shared_ptr<tutti::plugin> plugin;
    std::unique_ptr<tutti::encoder> enc;
    std::unique_ptr<tutti::decoder> dec;
};

codec_pair& codecs() {
    static codec_pair pair = [] {
        codec_pair p;
        std::string error;
        if (tutti::plugin::load(TUTTI_GSM_PLUGIN, p.plugin, &error) != tutti::status::ok) std::abort();
        tutti::codec_registry registry = tutti::codec_registry::with_builtin_codecs();
        if (p.plugin->register_codecs(registry, false, &error) != tutti::status::ok) std::abort();
        tutti::sdp_format f;
        f.payload_type = 3;
        f.encoding_name = "GSM";
        f.clock_rate_hz = 8000;
        if (registry.make_encoder(f, {}, p.enc, &error) != tutti::status::ok) std::abort();
        if (registry.make_decoder(f, {}, p.dec, &error) != tutti::status::ok) std::abort();
        return p;
    }();
    return pair;
}

void check_status(std::ptrdiff_t r) {
    if (r < static_cast<std::ptrdiff_t>(tutti::status::internal_error)) std::abort();
}

void check_samples(const float* x, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        if (!std::isfinite(x[i]) || x[i] < -1.0f || x[i] > 1.0f) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    codec_pair& c = codecs();
    c.dec->reset();
    c.enc->reset();
    std::vector<float> pcm(1024);
    std::vector<std::uint8_t> payload(256);
    std::size_t i = 0;
    while (i < size) {
        const std::uint8_t op = data[i++];
        const std::size_t arg = i < size ? data[i++] : 0;
        switch (op % 6) {
        case 0:
        case 1: {  // decode: a whole frame most often, any length otherwise
            const std::size_t len = std::min(op % 6 == 0 ? std::size_t{33} : arg, size - i);
            const std::span<const std::uint8_t> p(data + i, len);
            i += len;
            const std::ptrdiff_t frames = c.dec->frames_in(p);
            check_status(frames);
            const std::ptrdiff_t r = c.dec->decode(p, tutti::interleaved_view<float>(pcm.data(), 160, 1));
            check_status(r);
            if (r > 160) std::abort();
            if (r > 0) check_samples(pcm.data(), static_cast<std::size_t>(r));
            break;
        }
        case 2: {  // a loss of 1..1024 frames
            const std::size_t frames = 1 + arg * 4;
            const std::ptrdiff_t r = c.dec->conceal(tutti::interleaved_view<float>(pcm.data(), frames, 1));
            if (r != static_cast<std::ptrdiff_t>(frames)) std::abort();
            check_samples(pcm.data(), frames);
            break;
        }
        case 3: {  // decode into a buffer too small for a frame
            const std::size_t len = std::min<std::size_t>(33, size - i);
            const std::ptrdiff_t r =
                c.dec->decode({data + i, len}, tutti::interleaved_view<float>(pcm.data(), arg % 160, 1));
            i += len;
            check_status(r);
            if (r > static_cast<std::ptrdiff_t>(arg % 160)) std::abort();
            break;
        }
        case 4: {  // encode the input read as floats, into a payload buffer of any size
            float frame[160] = {};
            const std::size_t n = std::min(sizeof frame, size - i);
            std::memcpy(frame, data + i, n);
            i += n;
            const std::size_t capacity = arg % 64;
            const std::ptrdiff_t r =
                c.enc->encode(tutti::interleaved_view<const float>(frame, 160, 1), {payload.data(), capacity});
            check_status(r);
            if (r > static_cast<std::ptrdiff_t>(capacity)) std::abort();
            break;
        }
        default:
            if (arg & 1) c.dec->reset();
            else c.enc->reset();
            break;
        }
    }
    return 0;
}
