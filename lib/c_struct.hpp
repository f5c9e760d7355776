// lib/c_struct.hpp: reading and writing the size-prefixed structs of the C ABI
// (tutti.h). Internal to lib/c_api.cpp; in its own header so that
// tests/c_api_test.cpp can hold the rules to fake "older" and "newer" structs,
// which the real structs cannot show until a second version of them exists.
#pragma once

#include <cstddef>
#include <cstring>

namespace tutti_c {

/// Why a caller's struct was refused.
enum class struct_check { ok, null, too_small, unknown_fields_set };

/// Copies a caller's input struct of `caller_size` bytes (its struct_size) into
/// `out` (`our_size` bytes, already holding the defaults). A smaller struct
/// (an older header) must still hold the first version (`min_size` bytes); the
/// fields it lacks keep their defaults. A larger one (a newer header) is
/// accepted when every byte we do not know is zero: a newer *_init() leaves
/// new fields at zero only when zero means "as before", so a non-zero byte is a
/// request we cannot honour. Leaves `out` unchanged unless it returns ok.
inline struct_check read_struct(const void* in, std::size_t caller_size, std::size_t min_size, void* out,
                                std::size_t our_size) noexcept {
    if (in == nullptr) return struct_check::null;
    if (caller_size < min_size) return struct_check::too_small;
    const auto* bytes = static_cast<const unsigned char*>(in);
    for (std::size_t i = our_size; i < caller_size; ++i)
        if (bytes[i] != 0) return struct_check::unknown_fields_set;
    std::memcpy(out, in, caller_size < our_size ? caller_size : our_size);
    return struct_check::ok;
}

/// Writes our output struct `ours` (`our_size` bytes) into the caller's `out`
/// of `caller_size` bytes: truncated for an older caller, zero-filled beyond
/// our fields for a newer one. The caller's struct_size (the first size_t) is
/// kept. `caller_size` must already be checked against the first version's size.
inline void write_struct(const void* ours, std::size_t our_size, void* out, std::size_t caller_size) noexcept {
    auto* dst = static_cast<unsigned char*>(out);
    const std::size_t n = caller_size < our_size ? caller_size : our_size;
    std::memcpy(dst + sizeof(std::size_t), static_cast<const unsigned char*>(ours) + sizeof(std::size_t),
                n - sizeof(std::size_t));
    if (caller_size > our_size) std::memset(dst + our_size, 0, caller_size - our_size);
}

}  // namespace tutti_c
