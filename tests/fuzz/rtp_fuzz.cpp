// tests/fuzz/rtp_fuzz.cpp: libFuzzer target for the RTP parser, its RFC 8285
// extension iteration, the writer, and the RFC 4733 / RFC 3389 payload parsers.
//
// The input is one datagram. Beyond crashes and sanitizer findings, the target
// checks the parser's contract: a refused datagram leaves the view untouched;
// an accepted one is split exactly into headers, payload and padding inside
// the input; every extension element lies inside the extension block with an
// ID and length its form allows; find_extension() agrees with the iteration;
// and writing the parsed fields back (write_rtp) gives a packet that parses to
// the same header, elements and payload. Then the same bytes, cut into 8-byte
// records, drive a telephone_event_decoder, which must report begin and end
// alternately, each end matching its begin, and end whatever is open when
// polled far in the future.
//
// Seeds: tests/fuzz/corpus/rtp/. Build (until CMake wires it), from the repo root:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
//       tests/fuzz/rtp_fuzz.cpp lib/rtp.cpp lib/telephone_event.cpp lib/comfort_noise.cpp -o rtp_fuzz
//   ./rtp_fuzz -max_total_time=120 tests/fuzz/corpus/rtp/
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "tutti/comfort_noise.hpp"
#include "tutti/rtp.hpp"
#include "tutti/telephone_event.hpp"

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

bool inside(std::span<const std::uint8_t> part, std::span<const std::uint8_t> whole) {
    if (part.empty()) return true;
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

bool same_bytes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

void check_packet(std::span<const std::uint8_t> in) {
    tutti::rtp_packet_view v;
    tutti::rtp_parse_counters counters;
    const tutti::rtp_parse_result r = tutti::parse_rtp(in, v, counters);
    check(static_cast<std::size_t>(r) < tutti::rtp_parse_result_count);
    check(counters.parsed + counters.rejected_total() == 1);
    check(tutti::to_string(r) != nullptr);
    if (r != tutti::rtp_parse_result::ok) {
        check(v.bytes().empty() && v.payload().empty() && v.extension_data().empty());
        return;
    }
    check(v.bytes().data() == in.data() && v.bytes().size() == in.size());
    check(in.size() >= tutti::rtp_fixed_header_bytes && (in[0] >> 6) == 2 && !tutti::rtp_is_rtcp_byte(in[1]));
    check(v.header_bytes() + v.payload().size() + v.padding_bytes() == in.size());
    check(v.payload().empty() || v.payload().data() == in.data() + v.header_bytes());
    check(v.header_bytes() >= tutti::rtp_fixed_header_bytes + 4 * v.csrc_count());
    check(v.has_padding() == (v.padding_bytes() != 0));
    if (v.has_padding()) check(v.padding_bytes() == in.back());
    check(inside(v.extension_data(), in));
    check(v.extension_data().size() % 4 == 0);
    if (!v.has_extension()) check(v.extension_form() == tutti::rtp_extension_form::none && v.extension_data().empty());

    // Elements: inside the block, legal IDs and sizes, in increasing position.
    std::vector<tutti::rtp_extension_element> elements;
    const std::uint8_t* last_end = v.extension_data().data();
    for (tutti::rtp_extension_element e : v.extensions()) {
        check(inside(e.data, v.extension_data()));
        check(e.id != 0);
        if (v.extension_form() == tutti::rtp_extension_form::one_byte)
            check(e.id <= 14 && !e.data.empty() && e.data.size() <= 16);
        else
            check(v.extension_form() == tutti::rtp_extension_form::two_byte && e.data.size() <= 255);
        check(e.data.data() > last_end);
        last_end = e.data.data() + e.data.size();
        elements.push_back(e);
        check(elements.size() <= v.extension_data().size());
    }
    for (int id = 0; id < 256; ++id) {
        const auto found = v.find_extension(static_cast<std::uint8_t>(id));
        const tutti::rtp_extension_element* first = nullptr;
        for (const auto& e : elements)
            if (e.id == id) {
                first = &e;
                break;
            }
        check(found.has_value() == (first != nullptr));
        if (first != nullptr) check(found->data() == first->data.data() && found->size() == first->data.size());
        const auto level = tutti::find_audio_level(v, static_cast<std::uint8_t>(id));
        check(level.has_value() == (first != nullptr && !first->data.empty()));
        if (level) check(level->level <= 127 && tutti::encode_audio_level(*level) == first->data[0]);
    }

    // Write the parsed fields back: never larger, and it parses to the same thing.
    std::vector<std::uint8_t> again(in.size());
    const std::ptrdiff_t n = tutti::write_rtp(v.header(), elements, v.payload(), again);
    check(n > 0 && static_cast<std::size_t>(n) <= in.size());
    tutti::rtp_packet_view w;
    check(tutti::parse_rtp(std::span<const std::uint8_t>(again.data(), static_cast<std::size_t>(n)), w) ==
          tutti::rtp_parse_result::ok);
    check(w.header() == v.header());
    check(same_bytes(w.payload(), v.payload()));
    std::size_t i = 0;
    for (tutti::rtp_extension_element e : w.extensions()) {
        check(i < elements.size() && e.id == elements[i].id && same_bytes(e.data, elements[i].data));
        ++i;
    }
    check(i == elements.size());

    // Payload parsers on whatever the payload holds.
    tutti::telephone_event_payload ev;
    if (tutti::parse_telephone_event(v.payload(), ev) == tutti::status::ok) {
        check(v.payload().size() >= 4 && ev.volume <= 63);
        std::array<std::uint8_t, 4> back{};
        check(tutti::write_telephone_event(ev, back) == 4);
        check(back[0] == v.payload()[0] && (back[1] & 0xBF) == (v.payload()[1] & 0xBF) && back[2] == v.payload()[2] &&
              back[3] == v.payload()[3]);
    } else {
        check(v.payload().size() < 4);
    }
    tutti::comfort_noise_payload cn;
    if (tutti::parse_comfort_noise(v.payload(), cn) == tutti::status::ok) {
        check(cn.level <= 127 && cn.coefficient_count() + 1 == v.payload().size());
        check(inside(cn.reflection_coefficients, v.payload()));
    }
}

// 8-byte records: [time step][timestamp step (2)][event block (4)][clock choice].
void check_event_decoder(std::span<const std::uint8_t> in) {
    if (in.empty()) return;
    constexpr std::uint32_t rates[] = {8000, 16000, 48000, 1};
    tutti::telephone_event_decoder_config config;
    config.clock_rate_hz = rates[in[0] & 3];
    config.timeout_intervals = 1 + (in[0] >> 2 & 7);
    tutti::telephone_event_decoder dec(config);
    std::array<tutti::telephone_event_notification, tutti::telephone_event_max_notifications> out{};
    bool open = false;
    tutti::telephone_event_notification begun{};
    std::uint64_t now = 0;
    std::uint32_t ts = 0x7FFFFF00u;
    auto take = [&](std::ptrdiff_t n) {
        check(n >= 0 && n <= static_cast<std::ptrdiff_t>(out.size()));
        for (std::ptrdiff_t k = 0; k < n; ++k) {
            const auto& note = out[static_cast<std::size_t>(k)];
            check(note.key == tutti::telephone_event_char(note.event));
            if (note.kind == tutti::telephone_event_kind::begin) {
                check(!open && note.duration == 0 && note.reason == tutti::telephone_event_end_reason::none);
                open = true;
                begun = note;
            } else {
                check(open && note.event == begun.event && note.rtp_timestamp == begun.rtp_timestamp);
                check(note.reason != tutti::telephone_event_end_reason::none);
                const std::uint64_t ms = (note.duration * 1000 + config.clock_rate_hz / 2) / config.clock_rate_hz;
                check(note.duration_ms == static_cast<std::uint32_t>(ms < 0xFFFFFFFFu ? ms : 0xFFFFFFFFu));
                open = false;
            }
        }
        check(dec.active() == open);
    };
    for (std::size_t pos = 1; pos + 8 <= in.size(); pos += 8) {
        const std::uint8_t* r = in.data() + pos;
        now += std::uint64_t{r[0]} * 4000;  // 0..1 s per step
        const auto step = static_cast<std::int16_t>((r[1] << 8) | r[2]);
        ts += static_cast<std::uint32_t>(static_cast<std::int32_t>(step) * ((r[7] & 1) != 0 ? 1 : 64));
        if ((r[7] & 2) != 0) take(dec.poll(now, out));
        if ((r[7] & 4) != 0) {  // a truncated payload is refused and changes nothing
            check(dec.push(ts, std::span<const std::uint8_t>(r + 3, 3), now, out) ==
                  tutti::as_count(tutti::status::truncated));
            check(dec.active() == open);
        } else {
            take(dec.push(ts, std::span<const std::uint8_t>(r + 3, 4), now, out));
        }
    }
    take(dec.poll(now + (std::uint64_t{1} << 40), out));
    check(!open);
    const auto& c = dec.counters();
    check(c.ends_by_timeout + c.ends_superseded <= c.events);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> in(data, size);
    check_packet(in);
    check_event_decoder(in);
    return 0;
}
