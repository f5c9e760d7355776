// tests/fuzz/sdp_fuzz.cpp: libFuzzer target for tutti/sdp.hpp, the codec registry and the transcoder.
//
// The input is an SDP body. Beyond crashes and sanitizer findings the target
// checks the parser's contract: only ok / malformed / not_found, a short
// non-empty message on failure, every documented limit holding on success,
// and a round trip (each parsed rtpmap and fmtp, written back as text, parses
// to the same fields). The first formats then go through the built-in codec
// registry (any status, never a crash), and when two of them make codecs, a
// transcoder between them gets slices of the input as payloads (for one
// input length in four, to keep the parser's execution rate high).
//
// Seeds: tests/fuzz/corpus/sdp/. Build (until CMake wires it), from the repo root,
// against a clang build of libtutti.a with the same sanitizers:
//   cmake -S . -B /tmp/fz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
//       -DCMAKE_BUILD_TYPE=Debug -DTUTTI_SANITIZE=ON -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link \
//       -DTUTTI_BUILD_TESTS=OFF -DTUTTI_BUILD_BENCHMARKS=OFF -DTUTTI_BUILD_EXAMPLES=OFF && ninja -C /tmp/fz tutti
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude tests/fuzz/sdp_fuzz.cpp \
//       /tmp/fz/lib/libtutti.a -lopus -lspeexdsp -o sdp_fuzz
//   ./sdp_fuzz -max_total_time=120 tests/fuzz/corpus/sdp
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tutti/codec_registry.hpp"
#include "tutti/sdp.hpp"
#include "tutti/transcoder.hpp"

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

void check_format(const tutti::sdp_format& f) {
    check(f.payload_type <= tutti::sdp_max_payload_type);
    check(!f.encoding_name.empty() && f.encoding_name.size() <= tutti::sdp_max_encoding_name_bytes);
    check(f.clock_rate_hz >= 1 && f.clock_rate_hz <= tutti::sdp_max_clock_rate_hz);
    check(f.channels >= 1 && f.channels <= tutti::sdp_max_channels);
    check(f.ptime_ms <= tutti::sdp_max_ptime_ms && f.maxptime_ms <= tutti::sdp_max_ptime_ms);
    check(f.fmtp.size() <= tutti::sdp_max_fmtp_params);
    for (std::size_t i = 0; i < f.fmtp.size(); ++i) {
        check(f.fmtp[i].key.size() <= tutti::sdp_max_fmtp_key_bytes);
        check(f.fmtp[i].value.size() <= tutti::sdp_max_fmtp_value_bytes);
        check(!f.fmtp[i].key.empty() || !f.fmtp[i].value.empty());
        for (std::size_t j = 0; j < i; ++j) check(!tutti::iequals(f.fmtp[i].key, f.fmtp[j].key));
        check(f.param(f.fmtp[i].key) == std::string_view(f.fmtp[i].value));
    }

    // Round trip through text.
    tutti::sdp_format again;
    const std::string rtpmap = std::to_string(f.payload_type) + " " + f.encoding_name + "/" +
                               std::to_string(f.clock_rate_hz) + "/" + std::to_string(f.channels);
    check(tutti::parse_rtpmap(rtpmap, again) == tutti::status::ok);
    check(again.payload_type == f.payload_type && again.encoding_name == f.encoding_name &&
          again.clock_rate_hz == f.clock_rate_hz && again.channels == f.channels);
    std::string fmtp = std::to_string(f.payload_type) + " ";
    for (const auto& p : f.fmtp) fmtp += (p.key.empty() ? p.value : p.key + "=" + p.value) + ";";
    if (fmtp.size() > tutti::sdp_max_line_bytes) return;  // merged from several lines: too long for one
    std::uint8_t pt = 0;
    std::vector<tutti::fmtp_param> params;
    check(tutti::parse_fmtp(fmtp, pt, params) == tutti::status::ok);
    check(pt == f.payload_type && params == f.fmtp);
}

void check_error(tutti::status s, const std::string& error) {
    if (s == tutti::status::ok) return;
    check(s == tutti::status::malformed || s == tutti::status::not_found);
    check(!error.empty() && error.size() < 512);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    // The pieces alone.
    {
        tutti::sdp_format f;
        std::string error;
        const tutti::status s = tutti::parse_rtpmap(text, f, &error);
        check_error(s, error);
        if (s == tutti::status::ok) check_format(f);
        std::uint8_t pt = 0;
        std::vector<tutti::fmtp_param> params;
        check_error(tutti::parse_fmtp(text, pt, params, &error), error);
    }

    std::vector<tutti::sdp_format> formats;
    std::string error;
    const tutti::status s = tutti::parse_sdp_audio(text, formats, &error);
    check_error(s, error);
    if (s != tutti::status::ok) return 0;
    for (const auto& f : formats) check_format(f);

    // The registry on whatever the SDP says. Creating codecs (Opus above all)
    // costs ~10x the parse, so only one input length in four, and only the
    // first few formats, go through it: the parser gets most executions.
    if (size % 4 != 0) return 0;
    static const tutti::codec_registry registry = tutti::codec_registry::with_builtin_codecs();
    const tutti::codec_options options;
    std::vector<const tutti::sdp_format*> usable;
    for (std::size_t i = 0; i < formats.size() && i < 4; ++i) {
        std::unique_ptr<tutti::encoder> e;
        std::unique_ptr<tutti::decoder> d;
        const tutti::status se = registry.make_encoder(formats[i], options, e, &error);
        const tutti::status sd = registry.make_decoder(formats[i], options, d, &error);
        check((se == tutti::status::ok) == (e != nullptr));
        check((sd == tutti::status::ok) == (d != nullptr));
        if (se == tutti::status::ok && sd == tutti::status::ok) usable.push_back(&formats[i]);
    }

    // A transcoder between the first and last usable formats, fed slices of the input.
    if (usable.size() >= 2) {
        std::unique_ptr<tutti::transcoder> t;
        if (tutti::transcoder::create(*usable.front(), *usable.back(), registry, options, t) == tutti::status::ok) {
            std::vector<std::uint8_t> out(t->recommended_payload_bytes());
            const std::span<const std::uint8_t> all(data, size);
            std::size_t at = 0;
            for (int i = 0; i < 8 && at < size; ++i) {
                const std::size_t n = std::min<std::size_t>(all[at] % 200 + 1, size - at);
                if ((all[at] & 0x80) != 0) {
                    (void)t->push_lost(all.subspan(at, n), t->input_frames_for_rtp_ticks(all[at] * 8u));
                } else {
                    (void)t->push(all.subspan(at, n));
                }
                at += n;
                for (auto o = t->pull(out); o.produced(); o = t->pull(out)) check(o.bytes <= out.size());
            }
            check(t->fifo_frames() <= t->fifo_capacity_frames());
        }
    }
    return 0;
}
