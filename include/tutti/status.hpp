// tutti/status.hpp: the one error vocabulary of the library.
//
// Functions that can fail return `status` (or "count or negative status" as
// `std::ptrdiff_t` where they produce data, like opus_encode). The numbers are
// part of the ABI: the C API will expose the same values as TUTTI_E_* codes.
#pragma once

#include <cstddef>

#include "tutti/config.hpp"

TUTTI_BEGIN_NAMESPACE

/// Result of a call. `ok` is 0; every error is negative so that functions
/// returning a count can return an error in the same value.
enum class status : int {
    ok = 0,
    invalid_argument = -1,  ///< a parameter is out of its documented range (null, size 0, rate 0 ...)
    buffer_too_small = -2,  ///< the output buffer cannot hold the result
    unsupported = -3,       ///< valid request that this build or component does not implement
    malformed = -4,         ///< input data violates its format (bad header, bad field value)
    truncated = -5,         ///< input data ends before its own headers say it should
    io_error = -6,          ///< the operating system refused a file operation
    out_of_memory = -7,     ///< an allocation failed (only outside the tick)
    not_found = -8,         ///< a named thing (codec, participant, plugin) does not exist
    internal_error = -9,    ///< a dependency (libopus, SpeexDSP) reported an unexpected failure
};

/// A short, static, human-readable description ("malformed input"). Never null.
/// [any-thread]
constexpr const char* to_string(status s) noexcept {
    switch (s) {
        case status::ok: return "ok";
        case status::invalid_argument: return "invalid argument";
        case status::buffer_too_small: return "output buffer too small";
        case status::unsupported: return "unsupported";
        case status::malformed: return "malformed input";
        case status::truncated: return "truncated input";
        case status::io_error: return "I/O error";
        case status::out_of_memory: return "out of memory";
        case status::not_found: return "not found";
        case status::internal_error: return "internal error";
    }
    return "unknown status";
}

/// The status as a negative count, for "count or negative status" returns.
constexpr std::ptrdiff_t as_count(status s) noexcept { return static_cast<std::ptrdiff_t>(s); }

/// Interprets a "count or negative status" return: the status it carries, or ok.
constexpr status status_of(std::ptrdiff_t count_or_status) noexcept {
    return count_or_status < 0 ? static_cast<status>(count_or_status) : status::ok;
}

TUTTI_END_NAMESPACE
