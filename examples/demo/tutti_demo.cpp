// tutti-demo: a whole conference call, simulated, from real speech.
//
// Four people read from a novel (Debian's pocketsphinx-testdata: LibriVox
// recordings at 16 kHz) in one tutti::room. Each one is an RTP client with its
// own codec (Opus 48 kHz, Opus, G.722, PCMU) and its own network, taken from
// the seeded traces the jitter-buffer evaluation uses (bench/network_trace.hpp:
// Wi-Fi jitter and loss, heavy-tailed jitter with burst loss, delay spikes, a
// clean LAN). Everything runs in simulated time: packets reach the room at
// their trace arrival times, the room ticks every 20 ms of simulated time, and
// nothing sleeps, so the call takes a few seconds of CPU.
//
// Flow per client: speech -> resampler -> client encoder -> RTP packetizer ->
// network trace (delay, jitter, loss, reordering) -> room::push_rtp -> [room:
// jitter buffer, decoder, mix-minus, loudest-N, limiter, encoder] ->
// room::pull_rtp -> client decoder -> hears-<name>.wav.
//
// Output (in tutti-demo-out/ unless given): what each participant heard, the
// room mix (recorded through the mix tap), a statistics table on stdout and
// call.svg: a timeline of who talked, who was mixed, input levels and
// concealment events.
//
// Usage: tutti-demo [speech-dir] [output-dir]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "network_trace.hpp"
#include "room_recorder.hpp"
#include "tutti/codec_registry.hpp"
#include "tutti/conference.hpp"
#include "tutti/resampler.hpp"
#include "tutti/rtp.hpp"
#include "tutti/rtp_packetizer.hpp"
#include "tutti/wav.hpp"

namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t speech_rate = 16000;
constexpr std::int64_t tick_us = 20000;

struct utterance {
    const char* file;   // under <speech-dir>/librivox/
    double start_s;     // when the person starts reading it
};

struct person {
    // What the call is made of.
    const char* name = "";
    const char* codec_label = "";
    tutti::sdp_format format;
    const char* scenario = "";  // bench/network_trace.hpp
    std::uint64_t seed = 0;
    std::vector<utterance> says;

    // Set up by the demo.
    tutti::participant_id id = 0;
    std::unique_ptr<tutti::encoder> enc;
    std::unique_ptr<tutti::decoder> dec;
    std::vector<float> voice;                       // 16 kHz timeline of what the person says
    std::vector<std::vector<std::uint8_t>> packets; // one RTP packet per 20 ms frame
    tutti_bench::network_trace trace;
    std::vector<tutti_bench::trace_arrival> arrivals;
    std::size_t next_arrival = 0;
    std::vector<float> heard;                       // decoded, at the client decoder's rate (mono)

    // Per tick, for the picture.
    std::vector<float> level_dbov;
    std::vector<bool> talking, mixed, concealed;
    tutti::participant_stats last{};
    std::uint64_t concealed_in_call = 0;  // concealed samples up to the last packet decoded (then the client has hung up)
};

tutti::sdp_format format(std::uint8_t pt, const char* name, std::uint32_t clock, std::uint16_t channels,
                         std::vector<tutti::fmtp_param> fmtp = {}) {
    tutti::sdp_format f;
    f.payload_type = pt;
    f.encoding_name = name;
    f.clock_rate_hz = clock;
    f.channels = channels;
    f.fmtp = std::move(fmtp);
    return f;
}

person make_person(const char* name, const char* codec_label, tutti::sdp_format f, const char* scenario, std::uint64_t seed,
                   std::vector<utterance> says) {
    person p;
    p.name = name;
    p.codec_label = codec_label;
    p.format = std::move(f);
    p.scenario = scenario;
    p.seed = seed;
    p.says = std::move(says);
    return p;
}

bool fail(const std::string& what) {
    std::fprintf(stderr, "tutti-demo: %s\n", what.c_str());
    return false;
}
int die(const std::string& what) {
    fail(what);
    return 1;
}

// Resamples a whole mono signal (one call; the demo's signals are short).
std::vector<float> resample(const std::vector<float>& in, std::uint32_t from, std::uint32_t to) {
    if (from == to) return in;
    std::unique_ptr<tutti::resampler> rs;
    if (tutti::resampler::create(from, to, 1, rs) != tutti::status::ok) return {};
    std::vector<float> out(rs->max_output_frames(in.size()));
    const auto n = rs->process({in.data(), in.size(), 1}, {out.data(), out.size(), 1});
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
}

double rms_dbov(const std::vector<float>& x) {
    double e = 0;
    for (float v : x) e += double(v) * v;
    return x.empty() || e <= 0 ? -127.0 : 10.0 * std::log10(e / static_cast<double>(x.size()));
}

// The picture of the call: one lane per participant with its input level, when
// it talked, when it was mixed and where its jitter buffer concealed a loss.
void write_svg(const fs::path& path, const std::vector<person>& people, std::size_t ticks) {
    const double left = 150, width = 1000, lane = 86, top = 40;
    const double px_per_tick = width / static_cast<double>(ticks);
    const double rows = static_cast<double>(people.size());
    const double height = top + lane * rows + 60;
    std::ofstream svg(path);
    svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << left + width + 20 << "' height='" << height
        << "' font-family='sans-serif' font-size='12'>\n<rect width='100%' height='100%' fill='white'/>\n";
    svg << "<text x='" << left << "' y='20' font-size='15'>tutti-demo: who talked (light), who was mixed (dark), "
                                  "input level (line, -60..0 dBov), concealment (red)</text>\n";
    const double seconds = static_cast<double>(ticks) * tick_us / 1e6;
    for (int s = 0; s <= static_cast<int>(seconds); ++s) {
        const double x = left + s * 50.0 * px_per_tick;
        svg << "<line x1='" << x << "' y1='" << top << "' x2='" << x << "' y2='" << top + lane * rows
            << "' stroke='#ddd'/>\n";
        if (s % 2 == 0) svg << "<text x='" << x - 4 << "' y='" << top + lane * rows + 16 << "'>" << s << "</text>\n";
    }
    svg << "<text x='" << left + width / 2 - 40 << "' y='" << top + lane * rows + 36 << "'>time (s)</text>\n";
    for (std::size_t p = 0; p < people.size(); ++p) {
        const person& who = people[p];
        const double y0 = top + lane * static_cast<double>(p);
        svg << "<text x='8' y='" << y0 + 30 << "' font-weight='bold'>" << who.name << "</text>\n";
        svg << "<text x='8' y='" << y0 + 46 << "'>" << who.codec_label << "</text>\n";
        svg << "<text x='8' y='" << y0 + 62 << "' fill='#666'>" << who.scenario << "</text>\n";
        auto bars = [&](const std::vector<bool>& on, double y, double h, const char* colour) {
            for (std::size_t t = 0; t < on.size();) {
                if (!on[t]) {
                    ++t;
                    continue;
                }
                std::size_t e = t;
                while (e < on.size() && on[e]) ++e;
                svg << "<rect x='" << left + static_cast<double>(t) * px_per_tick << "' y='" << y << "' width='"
                    << static_cast<double>(e - t) * px_per_tick << "' height='" << h << "' fill='" << colour << "'/>\n";
                t = e;
            }
        };
        bars(who.talking, y0 + 8, 50, "#cfe3f7");
        bars(who.mixed, y0 + 60, 12, "#2f6eb5");
        svg << "<polyline fill='none' stroke='#333' stroke-width='1' points='";
        for (std::size_t t = 0; t < who.level_dbov.size(); ++t) {
            const double db = std::clamp(static_cast<double>(who.level_dbov[t]), -60.0, 0.0);
            svg << left + (static_cast<double>(t) + 0.5) * px_per_tick << ',' << y0 + 58 - (db + 60.0) / 60.0 * 50.0 << ' ';
        }
        svg << "'/>\n";
        for (std::size_t t = 0; t < who.concealed.size(); ++t)
            if (who.concealed[t]) {
                const double x = left + (static_cast<double>(t) + 0.5) * px_per_tick;
                svg << "<line x1='" << x << "' y1='" << y0 + 4 << "' x2='" << x << "' y2='" << y0 + 12
                    << "' stroke='#d62728' stroke-width='1.5'/>\n";
            }
        svg << "<line x1='" << left << "' y1='" << y0 + lane - 6 << "' x2='" << left + width << "' y2='" << y0 + lane - 6
            << "' stroke='#eee'/>\n";
    }
    svg << "</svg>\n";
}

}  // namespace

int main(int argc, char** argv) {
    const fs::path speech_dir = argc > 1 ? argv[1] : TUTTI_DEMO_SPEECH_DIR;
    const fs::path out_dir = argc > 2 ? argv[2] : "tutti-demo-out";
    const auto wall_start = std::chrono::steady_clock::now();

    const std::vector<tutti::fmtp_param> opus_fmtp = {{"useinbandfec", "1"}, {"minptime", "10"}};
    std::vector<person> people;
    people.push_back(make_person("alice", "Opus 48 kHz", format(111, "opus", 48000, 2, opus_fmtp), "wifi", 11,
                      {{"sense_and_sensibility_01_austen_64kb-0870.wav", 0.5}, {"sense_and_sensibility_01_austen_64kb-0930.wav", 13.0}}));
    people.push_back(make_person("bob", "Opus 48 kHz", format(111, "opus", 48000, 2, opus_fmtp), "heavy_tail", 12,
                      {{"sense_and_sensibility_01_austen_64kb-0880.wav", 6.8}}));
    people.push_back(make_person("carol", "G.722", format(9, "G722", 8000, 1), "delay_spikes", 13,
                      {{"sense_and_sensibility_01_austen_64kb-0890.wav", 9.3}}));
    people.push_back(make_person("dave", "PCMU", format(0, "PCMU", 8000, 1), "clean_lan", 14,
                      {{"sense_and_sensibility_01_austen_64kb-0920.wav", 13.8}}));

    // The speech each person reads, on a 16 kHz timeline.
    std::size_t speech_len = 0;
    for (person& p : people) {
        for (const utterance& u : p.says) {
            tutti::wav_file wav;
            std::string error;
            const fs::path path = speech_dir / "librivox" / u.file;
            if (tutti::read_wav_file(path, wav, &error) != tutti::status::ok)
                return die(path.string() + ": " + error + " (install pocketsphinx-testdata: bash .ci/install-deps)");
            if (wav.sample_rate_hz != speech_rate || wav.channels != 1) return die(path.string() + ": expected 16 kHz mono");
            const auto at = static_cast<std::size_t>(u.start_s * speech_rate);
            if (p.voice.size() < at + wav.samples.size()) p.voice.resize(at + wav.samples.size());
            std::copy(wav.samples.begin(), wav.samples.end(), p.voice.begin() + static_cast<std::ptrdiff_t>(at));
        }
        speech_len = std::max(speech_len, p.voice.size());
    }
    const std::size_t tick_frames16 = speech_rate / 50;
    const std::size_t frames = (speech_len + tick_frames16 - 1) / tick_frames16 + 25;  // + 0.5 s to drain
    for (person& p : people) p.voice.resize(frames * tick_frames16);

    // The room: mixes at 48 kHz (Opus's rate), the two loudest at once.
    std::unique_ptr<tutti::room> room;
    std::string error;
    if (tutti::room::create({.mixing_rate_hz = 48000, .loudest_n = 2}, room, &error) != tutti::status::ok)
        return die("room: " + error);
    tutti_examples::room_recorder recorder;
    if (tutti_examples::start_room_recording(*room, recorder) != tutti::status::ok) return die("enable_tap");
    const tutti::codec_registry codecs = tutti::codec_registry::with_builtin_codecs();
    tutti::codec_options client_options;
    client_options.expected_loss_percent = 5;  // so the Opus clients spend bits on in-band FEC

    std::uint32_t ssrc = 0x7000;
    for (person& p : people) {
        // The client side: encoder, packetizer, decoder.
        if (codecs.make_encoder(p.format, client_options, p.enc, &error) != tutti::status::ok ||
            codecs.make_decoder(p.format, client_options, p.dec, &error) != tutti::status::ok)
            return die(std::string(p.name) + ": " + error);
        tutti::rtp_packetizer packetizer;
        tutti::rtp_packetizer_config stream;
        stream.ssrc = ++ssrc;
        stream.payload_type = p.format.payload_type;
        stream.clock_rate_hz = p.format.clock_rate_hz;
        stream.seed = p.seed;
        if (packetizer.init(stream) != tutti::status::ok) return die("packetizer");
        const tutti::audio_format ef = p.enc->format();
        const std::vector<float> voice = resample(p.voice, speech_rate, ef.sample_rate_hz);
        const std::size_t n = ef.frame_samples();
        std::vector<float> frame(n * ef.channels);
        std::vector<std::uint8_t> payload(1500), packet(1500);
        for (std::size_t f = 0; f < frames; ++f) {
            for (std::size_t k = 0; k < n * ef.channels; ++k) {
                const std::size_t i = f * n + k / ef.channels;
                frame[k] = i < voice.size() ? voice[i] : 0.0f;
            }
            const auto bytes = p.enc->encode({frame.data(), n, ef.channels}, payload);
            if (bytes <= 0) return die(std::string(p.name) + ": encoder returned nothing");
            const auto len = packetizer.packetize({payload.data(), static_cast<std::size_t>(bytes)},
                                                  p.format.clock_rate_hz / 50, false, packet);
            if (len <= 0) return die("packetize");
            p.packets.emplace_back(packet.begin(), packet.begin() + len);
        }
        p.trace = tutti_bench::make_trace(p.scenario, p.seed, frames, p.format.clock_rate_hz);
        p.arrivals = p.trace.arrivals();

        // The room side: the same codec both ways.
        tutti::rtp_participant_config pc;
        pc.receive = pc.send = p.format;
        pc.ssrc = 0x9000 + ssrc;
        if (room->join_rtp(pc, p.id, &error) != tutti::status::ok) return die(std::string(p.name) + ": " + error);
    }

    // The call, in simulated time: a packet of frame f leaves when f is
    // captured (f + 1 ticks in) and arrives after its trace delay.
    std::vector<std::uint8_t> packet(1500);
    std::vector<float> decoded(5760 * 2);
    const std::size_t ticks = frames + 5;  // the last 25 frames are silence: the jitter buffers have drained by then
    for (std::size_t t = 0; t < ticks; ++t) {
        const std::int64_t now = static_cast<std::int64_t>(t + 1) * tick_us;
        for (person& p : people) {
            for (; p.next_arrival < p.arrivals.size(); ++p.next_arrival) {
                const auto& a = p.arrivals[p.next_arrival];
                const std::int64_t at = a.arrival_us + tick_us;
                if (at > now) break;
                const auto& bytes = p.packets[a.packet];
                if (room->push_rtp(p.id, bytes, at) != tutti::status::ok) return die("push_rtp");
            }
        }
        if (room->tick(now) != tutti::status::ok) return die("tick");
        for (person& p : people) {
            tutti::participant_stats st;
            (void)room->get_participant_stats(p.id, st);
            p.level_dbov.push_back(st.input_level_dbov);
            p.talking.push_back(st.talking);
            p.mixed.push_back(st.mixed);
            // Once the clients stop sending, every tick is "concealed": not worth a mark.
            p.concealed.push_back(t + 10 < frames && (st.jitter.concealed_samples > p.last.jitter.concealed_samples ||
                                                      st.jitter.fec_recovered > p.last.jitter.fec_recovered));
            if (st.jitter.packets_decoded > p.last.jitter.packets_decoded) p.concealed_in_call = st.jitter.concealed_samples;
            p.last = st;
            for (std::ptrdiff_t n; (n = room->pull_rtp(p.id, packet)) > 0;) {  // the downlink is clean
                tutti::rtp_packet_view view;
                if (tutti::parse_rtp({packet.data(), static_cast<std::size_t>(n)}, view) != tutti::rtp_parse_result::ok)
                    return die("the room sent a malformed packet");
                const tutti::audio_format df = p.dec->format();
                const auto got = p.dec->decode(view.payload(), {decoded.data(), decoded.size() / df.channels, df.channels});
                for (std::ptrdiff_t k = 0; k < got; ++k) p.heard.push_back(decoded[static_cast<std::size_t>(k) * df.channels]);
            }
        }
        recorder.on_tick(*room);
        tutti::room_event events[16];
        while (room->poll_events(events) > 0) {
        }
    }

    // Files.
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    auto write = [&](const fs::path& path, std::uint32_t rate, std::vector<float> samples) {
        const tutti::wav_file wav{rate, 1, tutti::wav_encoding::pcm16, std::move(samples)};
        if (tutti::write_wav_file(path, wav, &error) != tutti::status::ok) return fail(path.string() + ": " + error);
        return true;
    };
    bool ok = true;
    for (const person& p : people) ok = write(out_dir / ("hears-" + std::string(p.name) + ".wav"), p.dec->format().sample_rate_hz, p.heard) && ok;
    if (recorder.finish(*room, out_dir / "room.wav", &error) != tutti::status::ok) ok = fail("room.wav: " + error);
    write_svg(out_dir / "call.svg", people, ticks);

    // The table.
    const tutti::room_stats& rs = room->stats();
    std::printf("tutti-demo: %zu people, %.1f s call in simulated time, room mixing at %u Hz, loudest %u mixed\n\n",
                people.size(), static_cast<double>(ticks) * tick_us / 1e6, rs.mixing_rate_hz, room->config().loudest_n);
    std::printf("%-6s %-12s %-13s %6s %5s %5s %5s %6s %8s %7s %7s %6s %7s %9s\n", "who", "codec", "network", "sent",
                "lost", "late", "FEC", "PLC ms", "jitter", "delay", "talked", "mixed", "entered", "hears rms");
    for (const person& p : people) {
        const auto& j = p.last.jitter;
        std::printf("%-6s %-12s %-13s %6zu %5zu %5llu %5llu %6llu %5.1f ms %4.0f ms %6.1fs %5.1fs %7llu %5.1f dBov\n", p.name,
                    p.codec_label, p.scenario, p.packets.size(), p.trace.lost_count(),
                    static_cast<unsigned long long>(j.packets_late), static_cast<unsigned long long>(j.fec_recovered),
                    static_cast<unsigned long long>(p.concealed_in_call * 1000 / p.dec->format().sample_rate_hz),
                    static_cast<double>(j.jitter_ms), static_cast<double>(j.current_delay_ms),
                    static_cast<double>(p.last.talk_ticks) * tick_us / 1e6,
                    static_cast<double>(std::count(p.mixed.begin(), p.mixed.end(), true)) * tick_us / 1e6,
                    static_cast<unsigned long long>(p.last.times_selected), rms_dbov(p.heard));
    }
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    std::printf("\nsent/lost: packets the client sent / the network lost; late: arrived after their time was concealed;\n"
                "FEC: lost packets rebuilt from Opus in-band FEC; PLC ms: audio concealed until the last packet (not the\n"
                "silence after the client stops); delay: jitter-buffer delay at the end.\n"
                "room tick(): mean %.1f us, max %.1f us of wall time per 20 ms tick; whole demo %.1f s of wall time.\n\n",
                rs.tick_mean_us, rs.tick_max_us, wall_s);
    std::printf("files in %s/:\n", out_dir.c_str());
    for (const person& p : people)
        std::printf("  %-16s what %s heard (%u Hz): everyone but %s\n", ("hears-" + std::string(p.name) + ".wav").c_str(), p.name,
                    p.dec->format().sample_rate_hz, p.name);
    std::printf("  %-16s the room mix, recorded from the mix tap (%u Hz)\n", "room.wav", recorder.rate_hz());
    std::printf("  %-16s timeline: who talked, who was mixed, levels, concealment\n", "call.svg");
    return ok ? 0 : 1;
}
