// tests/fuzz/c_api_fuzz.cpp: libFuzzer target for the C ABI (tutti.h) driven
// by a byte stream of API calls, the way a buggy or hostile host and network
// would drive it.
//
// Byte 0 configures the room (mixing rate, tick, encoding mode, silent-decode
// skipping, loudest-N). Every following record is an opcode and its
// arguments: joins from a table of real SDP offers or from fuzzed text and
// fuzzed struct fields (sizes, payload types, extension ids, ptimes), leaves,
// gains with arbitrary float bits (NaN, inf, denormals), mute/deaf/hears,
// prompts of any length and rate, the tap, RTP datagrams (raw bytes or a
// well-formed header for the participant's payload type, with RFC 6464
// levels, around a fuzzed payload), PCM, pulls into buffers of any size,
// ticks whose clock steps forward, not at all, backwards or by hours, event
// polling, statistics and calls with NULL pointers or wrong struct sizes.
// Participant arguments are either one of the joined ids or an arbitrary one.
//
// Checks beyond sanitizer findings: every call returns a documented status
// (0, a count, or a TUTTI_E_* code), and every sample the room gives back
// (tap, PCM) is finite and within [-1, 1] (the limiter's contract).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tutti/tutti.h"

namespace {

struct reader {
    const std::uint8_t* data;
    std::size_t size;
    std::size_t pos = 0;
    bool done() const { return pos >= size; }
    std::uint8_t u8() { return pos < size ? data[pos++] : 0; }
    std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
    std::uint32_t u32() { return u16() | (static_cast<std::uint32_t>(u16()) << 16); }
    float f32() {
        const std::uint32_t bits = u32();
        float f;
        std::memcpy(&f, &bits, sizeof f);
        return f;
    }
    std::string text(std::size_t max) {
        std::string s;
        const std::size_t n = std::min<std::size_t>(u8() % (max + 1), size - std::min(pos, size));
        s.assign(reinterpret_cast<const char*>(data + pos), n);
        pos += n;
        return s;  // may hold NULs: the C API sees the prefix up to the first one
    }
};

void check_status(int r) {
    if (r < TUTTI_E_INTERNAL) std::abort();  // not a documented code
}

void check_samples(const float* x, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        if (!std::isfinite(x[i]) || x[i] < -1.0f || x[i] > 1.0f) std::abort();
}

// Offers as real clients send them, each with the payload type it uses.
struct offer {
    const char* sdp;
    int pt;
};
const offer offers[] = {
    {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 111 101\r\n"
     "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1;usedtx=1\r\n"
     "a=rtpmap:101 telephone-event/48000\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n",
     111},
    {"v=0\r\nm=audio 9 RTP/AVP 0 13 101\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n", 0},
    {"v=0\r\nm=audio 9 RTP/AVP 8\r\na=ptime:30\r\n", 8},
    {"v=0\r\nm=audio 9 RTP/AVP 9\r\na=ptime:20\r\n", 9},
    {"v=0\r\nm=audio 9 RTP/AVP 96\r\na=rtpmap:96 L16/16000/1\r\na=ptime:10\r\n", 96},
    {"v=0\r\nm=audio 9 RTP/AVP 97\r\na=rtpmap:97 opus/48000/2\r\na=fmtp:97 stereo=1;maxplaybackrate=16000\r\n"
     "a=ptime:60\r\n",
     97},
    {"v=0\r\nm=audio 9 RTP/AVP 98\r\na=rtpmap:98 L16/48000/2\r\n", 98},
};
const char* rtpmaps[] = {"opus/48000/2", "PCMU/8000", "PCMA/8000", "G722/8000", "L16/8000/1", "L16/44100/2",
                         "opus/48000", "G729/8000", "opus/0/2", "L16/4294967295/1"};
const char* fmtps[] = {nullptr, "useinbandfec=1;usedtx=1", "stereo=1;sprop-stereo=1;maxaveragebitrate=6000",
                       "maxplaybackrate=8000;ptime=40", "garbage;;==;"};

struct member {
    std::uint32_t id;
    int pt;  // -1: PCM participant
    std::uint16_t seq;
    std::uint32_t ts;
};

void on_event(void* user, tutti_room* room, const tutti_room_event* event) {
    if (!room || !event) std::abort();
    ++*static_cast<int*>(user);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    reader in{data, size};
    const std::uint8_t cfg = in.u8();
    tutti_room_config config;
    tutti_room_config_init(&config);
    static const std::uint32_t rates[] = {0, 8000, 16000, 48000};
    static const std::uint32_t ticks[] = {20000, 10000, 40000, 20000};
    config.mixing_rate_hz = rates[cfg & 3];
    config.tick_us = ticks[(cfg >> 2) & 3];
    config.encoding = (cfg & 16) ? TUTTI_ENCODING_PER_PARTICIPANT : TUTTI_ENCODING_SHARED;
    config.skip_silent_decode = (cfg & 32) ? 0 : 1;
    config.loudest_n = 1 + ((cfg >> 6) & 3);
    config.max_participants = 6;
    config.max_prompts = 4;
    tutti_room* room = nullptr;
    if (tutti_room_create(&config, &room) != TUTTI_OK || !room) std::abort();

    std::vector<member> members;
    std::int64_t now = 0;
    int events_seen = 0;
    std::vector<float> fbuf;
    std::vector<std::int16_t> sbuf;
    std::vector<std::uint8_t> bytes;
    const auto pick_id = [&](std::uint8_t b) -> std::uint32_t {
        if (!(b & 0x80) && !members.empty()) return members[b % members.size()].id;
        return b & 0x80 ? in.u32() : b;
    };
    const auto find = [&](std::uint32_t id) -> member* {
        for (auto& m : members)
            if (m.id == id) return &m;
        return nullptr;
    };

    while (!in.done()) {
        const std::uint8_t op = in.u8();
        switch (op % 20) {
        case 0: {  // join from an offer, or from fuzzed SDP text
            const std::uint8_t which = in.u8();
            std::uint32_t id = 0;
            tutti_rtp_participant_config pc;
            tutti_rtp_participant_config_init(&pc);
            pc.ssrc = in.u32();
            int r;
            int pt;
            if (which & 0x80) {
                const std::string sdp = in.text(200);
                pt = in.u8() & 0x7f;
                r = tutti_room_join_rtp_sdp(room, sdp.c_str(), pt, (which & 0x40) ? nullptr : &pc, &id);
            } else {
                const offer& o = offers[which % std::size(offers)];
                pt = o.pt;
                r = tutti_room_join_rtp_sdp(room, o.sdp, pt, &pc, &id);
            }
            check_status(r);
            if (r == TUTTI_OK) members.push_back({id, pt, in.u16(), in.u32()});
            break;
        }
        case 1: {  // join from fields, many of them out of range
            tutti_rtp_participant_config pc;
            tutti_rtp_participant_config_init(&pc);
            const std::uint8_t f = in.u8();
            pc.receive_rtpmap = rtpmaps[f % std::size(rtpmaps)];
            pc.receive_fmtp = fmtps[(f >> 4) % std::size(fmtps)];
            pc.receive_ptime_ms = in.u8() % 4 == 0 ? in.u32() : 20;
            if (f & 0x80) pc.send_rtpmap = rtpmaps[in.u8() % std::size(rtpmaps)];
            pc.telephone_event_payload_type = static_cast<std::int8_t>(in.u8());
            pc.comfort_noise_payload_type = static_cast<std::int8_t>(in.u8());
            pc.audio_level_extension_id = in.u8() % 17;
            pc.jitter_min_delay_ms = in.u16();
            pc.jitter_max_delay_ms = in.u16();
            pc.opus_bitrate_bps = static_cast<int>(in.u32());
            pc.opus_complexity = static_cast<std::int8_t>(in.u8());
            pc.expected_loss_percent = static_cast<std::int8_t>(in.u8());
            const std::uint8_t sz = in.u8();
            if (sz < 8) pc.struct_size = sz * 16;  // older, newer and nonsense sizes
            std::uint32_t id = 0;
            const int r = tutti_room_join_rtp(room, &pc, &id);
            check_status(r);
            static const int pts[] = {111, 0, 8, 9, 96, 96, 111, 18, 0, 0};
            if (r == TUTTI_OK) members.push_back({id, pts[f % std::size(pts)], 0, 0});
            break;
        }
        case 2: {  // PCM participant
            tutti_pcm_participant_config pc;
            tutti_pcm_participant_config_init(&pc);
            const std::uint8_t f = in.u8();
            if (f & 1) pc.sample_rate_hz = in.u32();
            if (f & 2) pc.channels = in.u8();
            std::uint32_t id = 0;
            const int r = tutti_room_join_pcm(room, (f & 4) ? nullptr : &pc, &id);
            check_status(r);
            if (r == TUTTI_OK) members.push_back({id, -1, 0, 0});
            break;
        }
        case 3: {
            const std::uint32_t id = pick_id(in.u8());
            const int r = tutti_room_leave(room, id);
            check_status(r);
            if (r == TUTTI_OK)
                for (std::size_t i = 0; i < members.size(); ++i)
                    if (members[i].id == id) members.erase(members.begin() + static_cast<std::ptrdiff_t>(i));
            break;
        }
        case 4: check_status(tutti_room_set_input_gain(room, pick_id(in.u8()), in.f32())); break;
        case 5: check_status(tutti_room_set_output_gain(room, pick_id(in.u8()), in.f32())); break;
        case 6: {
            const std::uint8_t f = in.u8();
            const std::uint32_t id = pick_id(in.u8());
            if (f % 3 == 0) check_status(tutti_room_set_muted(room, id, f >> 2));
            else if (f % 3 == 1) check_status(tutti_room_set_deaf(room, id, f >> 2));
            else check_status(tutti_room_set_hears(room, id, pick_id(in.u8()), f >> 2));
            break;
        }
        case 7: {  // a prompt of any length, rate and gain, to the room or one participant
            const std::uint8_t f = in.u8();
            const std::uint32_t target = (f & 1) ? TUTTI_WHOLE_ROOM : pick_id(in.u8());
            const std::size_t count = static_cast<std::size_t>(in.u16()) % 4000;
            const std::uint32_t rate = (f & 2) ? in.u32() : 16000;
            const float gain = (f & 4) ? in.f32() : 0.5f;
            std::uint32_t prompt = 0;
            int r;
            if (f & 8) {
                sbuf.assign(count, 0);
                for (std::size_t i = 0; i < count; ++i) sbuf[i] = static_cast<std::int16_t>(in.data[(in.pos + i) % in.size] << 8);
                r = tutti_room_play_prompt_s16(room, target, count ? sbuf.data() : nullptr, count, rate, gain, &prompt);
            } else {
                fbuf.assign(count, 0.0f);
                for (std::size_t i = 0; i < count; ++i) fbuf[i] = (in.data[(in.pos + i) % in.size] - 128) / 64.0f;
                r = tutti_room_play_prompt(room, target, count ? fbuf.data() : nullptr, count, rate, gain, &prompt);
            }
            check_status(r);
            break;
        }
        case 8: check_status(tutti_room_stop_prompt(room, in.u8())); break;
        case 9: {
            const std::uint8_t f = in.u8();
            if (f & 1) {
                check_status(tutti_room_enable_tap(room, (f >> 1) & 1));
            } else {
                fbuf.assign(static_cast<std::size_t>(f) * 8, 0.0f);
                std::uint32_t rate = 0;
                const int r = tutti_room_pull_tap(room, fbuf.empty() ? nullptr : fbuf.data(), fbuf.size(), &rate);
                check_status(r);
                if (r > 0) check_samples(fbuf.data(), std::min<std::size_t>(static_cast<std::size_t>(r), fbuf.size()));
            }
            break;
        }
        case 10:
        case 11:
        case 12: {  // RTP: a well-formed header around a fuzzed payload, or raw bytes
            const std::uint8_t f = in.u8();
            const std::uint32_t id = pick_id(in.u8());
            member* m = find(id);
            bytes.clear();
            if (m && m->pt >= 0 && !(f & 1)) {
                const bool level = (f & 2) != 0;
                bytes = {static_cast<std::uint8_t>(level ? 0x90 : 0x80),
                         static_cast<std::uint8_t>(((f & 4) ? 0x80 : 0) | ((f & 8) ? in.u8() & 0x7f : m->pt))};
                m->seq = static_cast<std::uint16_t>(m->seq + ((f & 16) ? in.u8() : 1));
                m->ts += (f & 32) ? in.u32() : 960;
                const std::uint32_t ssrc = (f & 64) ? 7u : 1u;
                const std::uint8_t hdr[10] = {static_cast<std::uint8_t>(m->seq >> 8), static_cast<std::uint8_t>(m->seq),
                                              static_cast<std::uint8_t>(m->ts >> 24), static_cast<std::uint8_t>(m->ts >> 16),
                                              static_cast<std::uint8_t>(m->ts >> 8), static_cast<std::uint8_t>(m->ts),
                                              static_cast<std::uint8_t>(ssrc >> 24), static_cast<std::uint8_t>(ssrc >> 16),
                                              static_cast<std::uint8_t>(ssrc >> 8), static_cast<std::uint8_t>(ssrc)};
                bytes.insert(bytes.end(), hdr, hdr + 10);
                if (level) {  // RFC 8285 one-byte extension, id 1: the RFC 6464 level
                    const std::uint8_t ext[8] = {0xbe, 0xde, 0, 1, 0x10, in.u8(), 0, 0};
                    bytes.insert(bytes.end(), ext, ext + 8);
                }
            }
            const std::size_t n = std::min<std::size_t>(in.u8() * ((f & 128) ? 8u : 1u), in.size - std::min(in.pos, in.size));
            bytes.insert(bytes.end(), in.data + in.pos, in.data + in.pos + n);
            in.pos += n;
            const std::int64_t arrival = now + (static_cast<std::int64_t>(in.u8()) - 128) * 1000;
            check_status(tutti_room_push_rtp(room, id, bytes.empty() ? nullptr : bytes.data(), bytes.size(), arrival));
            break;
        }
        case 13: {
            const std::uint32_t id = pick_id(in.u8());
            const std::size_t frames = in.u16() % 4000;
            const std::uint32_t channels = in.u8() % 4;
            sbuf.assign(frames * std::max(channels, 1u), 0);
            for (std::size_t i = 0; i < sbuf.size(); ++i) sbuf[i] = static_cast<std::int16_t>((i * 2654435761u) >> 16);
            check_status(tutti_room_push_pcm(room, id, sbuf.empty() ? nullptr : sbuf.data(), frames, channels));
            break;
        }
        case 14: {
            const std::uint32_t id = pick_id(in.u8());
            bytes.assign(in.u16() % 3000, 0);
            check_status(tutti_room_pull_rtp(room, id, bytes.empty() ? nullptr : bytes.data(), bytes.size()));
            break;
        }
        case 15: {
            const std::uint32_t id = pick_id(in.u8());
            const std::size_t frames = in.u16() % 2000;
            const std::uint32_t channels = in.u8() % 4;
            sbuf.assign(frames * std::max(channels, 1u), 0);
            check_status(tutti_room_pull_pcm(room, id, sbuf.empty() ? nullptr : sbuf.data(), frames, channels));
            break;
        }
        case 16:
        case 17: {  // ticks: on time most often, sometimes late, repeated, backwards or hours ahead
            const std::uint8_t f = in.u8();
            const int reps = 1 + (f & 7);
            for (int i = 0; i < reps; ++i) {
                switch (f >> 6) {
                case 0: now += config.tick_us; break;
                case 1: now += static_cast<std::int64_t>(in.u8()) * 5000; break;
                case 2: now -= static_cast<std::int64_t>(in.u8()) * 1000; break;
                default: now += static_cast<std::int64_t>(in.u32()) * 1000; break;
                }
                check_status(tutti_room_tick(room, now));
            }
            if (tutti_room_tick_frames(room) == 0) std::abort();
            break;
        }
        case 18: {
            tutti_room_event events[8];
            const std::uint8_t f = in.u8();
            // The first event's struct_size is the array's stride: this
            // library's size or an older host's smaller one (or nonsense).
            events[0].struct_size = (f & 4) ? in.u8() % sizeof(tutti_room_event) : sizeof(tutti_room_event);
            if (f & 1) {
                check_status(tutti_room_set_event_callback(room, (f & 2) ? on_event : nullptr, &events_seen));
            } else {
                const int r = tutti_room_poll_events(room, (f & 2) ? nullptr : events, f % 9);
                check_status(r);
                if (r > 8) std::abort();
            }
            break;
        }
        default: {  // statistics and configuration into structs of any declared size, and misuse
            // The buffer is always as big as the size the "host" declares (a
            // struct_size larger than the real struct is the host's own
            // overflow, which no library can see); sizes smaller than this
            // library's structs are older hosts, larger ones newer hosts.
            alignas(std::max_align_t) std::uint8_t out[512];
            const std::uint8_t f = in.u8();
            const auto declare = [&](std::size_t real) {
                std::memset(out, 0, sizeof out);
                const std::size_t n = (f & 1) ? real : std::min<std::size_t>(in.u8() * 2u, sizeof out);
                std::memcpy(out, &n, sizeof n);
                return static_cast<void*>(out);
            };
            check_status(tutti_room_get_participant_stats(
                room, pick_id(in.u8()),
                (f & 2) ? nullptr : static_cast<tutti_participant_stats*>(declare(sizeof(tutti_participant_stats)))));
            check_status(tutti_room_get_stats(room, static_cast<tutti_room_stats*>(declare(sizeof(tutti_room_stats)))));
            check_status(tutti_room_get_config(room, static_cast<tutti_room_config*>(declare(sizeof(tutti_room_config)))));
            if (f & 16) {  // a NULL room everywhere
                check_status(tutti_room_tick(nullptr, now));
                check_status(tutti_room_leave(nullptr, 1));
                check_status(tutti_room_push_rtp(nullptr, 1, bytes.data(), bytes.size(), now));
                std::uint32_t id;
                check_status(tutti_room_join_rtp_sdp(nullptr, offers[0].sdp, 111, nullptr, &id));
                check_status(tutti_room_join_rtp_sdp(room, offers[0].sdp, 111, nullptr, nullptr));
            }
            if (std::strlen(tutti_strerror(static_cast<std::int8_t>(f))) == 0) std::abort();
            break;
        }
        }
    }
    // Let the room run on for a moment with what it holds, then check what it plays.
    for (int i = 0; i < 3; ++i) check_status(tutti_room_tick(room, now += config.tick_us));
    for (const member& m : members) {
        if (m.pt >= 0) continue;
        sbuf.assign(tutti_room_tick_frames(room) * 2, 0);
        check_status(tutti_room_pull_pcm(room, m.id, sbuf.data(), sbuf.size() / 2, 2));
    }
    tutti_room_destroy(room);
    return 0;
}
