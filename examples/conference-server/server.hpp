// examples/conference-server/server.hpp: a UDP/RTP conference server built only on tutti's public API.
//
// One tutti::room; one UDP port per participant (bound on a configurable
// address, loopback by default); codecs from a small config file (an rtpmap per
// participant, or an SDP offer file). Two threads carry the media:
//   * the I/O thread (run()'s caller) receives datagrams, drops bad traffic
//     (unknown source, not RTP, wrong payload type, floods: each counted per
//     participant and reason) and hands the rest to room::push_rtp with the
//     arrival time on CLOCK_MONOTONIC;
//   * the tick thread sleeps with clock_nanosleep(TIMER_ABSTIME) to the next
//     multiple of the tick (absolute deadlines: no drift), runs room::tick,
//     sends what room::pull_rtp gives, feeds the recorder and publishes a
//     statistics snapshot.
// A third, small thread answers the Prometheus text endpoint on a loopback TCP
// port from that snapshot (so a slow HTTP client cannot delay packets).
// stop() may be called from any thread (or a signal-handling thread).
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tutti/conference.hpp"

namespace tutti_examples {

struct server_participant_config {
    std::string name;
    std::uint16_t port = 0;            ///< 0: any free port (see conference_server::port)
    tutti::sdp_format format;          ///< both directions
    sockaddr_in send_to{};             ///< where its mix goes; port 0: back to where its packets come from
    sockaddr_in from{};                ///< the only source accepted; port 0: the first RTP source, latched
    std::uint32_t max_packets_per_s = 150;  ///< flood limit (token bucket, burst of one second)
};

struct server_config {
    std::string address = "127.0.0.1";       ///< participants' ports are bound here
    std::string stats_address = "127.0.0.1"; ///< Prometheus endpoint
    int stats_port = -1;                     ///< -1: none, 0: any free port
    std::uint32_t tick_ms = 20;
    std::uint32_t mixing_rate_hz = 48000;    ///< 0: automatic
    std::uint32_t loudest_n = 3;
    std::string record_path;                 ///< empty: no recording
    std::vector<server_participant_config> participants;
};

/// Parses the config file text (format in examples/conference-server/README.md).
/// Returns ok or malformed/not_found with `*error` naming the line.
tutti::status parse_server_config(std::string_view text, server_config& out, std::string* error);

/// Tick timing percentiles, microseconds.
struct tick_timing {
    std::uint64_t ticks = 0;
    double work_p50_us = 0, work_p99_us = 0, work_max_us = 0;  ///< room::tick + sending, per tick
    double late_p50_us = 0, late_p99_us = 0, late_max_us = 0;  ///< wake-up after the deadline
    std::uint64_t overruns = 0;                                ///< ticks that started more than a tick late
};

class conference_server {
public:
    static tutti::status create(const server_config& config, std::unique_ptr<conference_server>& out, std::string* error);
    ~conference_server();

    /// Runs the I/O loop on the calling thread and the tick thread beside it until stop().
    /// Writes the recording (if any) before returning.
    tutti::status run(std::string* error = nullptr);
    /// Makes run() return. [any-thread, async-signal-safe]
    void stop() noexcept;

    /// The bound port of participant `i` / of the statistics endpoint.
    std::uint16_t port(std::size_t i) const noexcept;
    std::uint16_t stats_port() const noexcept;
    /// The Prometheus text of the latest snapshot. [any-thread]
    std::string metrics() const;
    /// Tick timing so far. [any-thread]
    tick_timing timing() const;
    /// CPU seconds (user + system) the I/O and tick threads used (after run() returned).
    double cpu_seconds() const noexcept;

    struct impl;

private:
    explicit conference_server(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace tutti_examples
