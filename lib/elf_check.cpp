// Structural checks on a shared object before dlopen (see
// tutti/detail/elf_check.hpp for why and for what is and is not covered).
// Native ELF class only: the host can load nothing else anyway.
#include "tutti/detail/elf_check.hpp"

#include <elf.h>
#include <link.h>  // ElfW()

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

TUTTI_BEGIN_NAMESPACE
namespace detail {
namespace {

using ehdr = ElfW(Ehdr);
using phdr = ElfW(Phdr);
using dyn = ElfW(Dyn);
using addr = ElfW(Addr);

#if defined(__x86_64__)
constexpr int native_machine = EM_X86_64;
#elif defined(__aarch64__)
constexpr int native_machine = EM_AARCH64;
#elif defined(__i386__)
constexpr int native_machine = EM_386;
#elif defined(__arm__)
constexpr int native_machine = EM_ARM;
#elif defined(__riscv)
constexpr int native_machine = EM_RISCV;
#elif defined(__powerpc64__)
constexpr int native_machine = EM_PPC64;
#elif defined(__s390x__)
constexpr int native_machine = EM_S390;
#else
constexpr int native_machine = -1;  // unknown here: dlopen's own check decides
#endif

constexpr unsigned char native_class = sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32;
constexpr unsigned char native_data =
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;

// Largest image a plugin may map (a guard against absurd p_memsz values).
constexpr std::uint64_t max_image_bytes = std::uint64_t{1} << 32;

template <class T>
T read(std::span<const std::uint8_t> file, std::uint64_t offset) {
    T value;
    std::memcpy(&value, file.data() + offset, sizeof value);
    return value;
}

// [offset, offset + size) lies inside [0, limit), without overflow.
bool within(std::uint64_t offset, std::uint64_t size, std::uint64_t limit) {
    return offset <= limit && size <= limit - offset;
}

status fail(std::string* why, status s, std::string text) {
    if (why) *why = std::move(text);
    return s;
}

struct image {
    std::vector<phdr> loads;  // ascending p_vaddr

    // [address, address + size) inside one load segment's memory.
    bool contains(std::uint64_t address, std::uint64_t size) const {
        for (const phdr& p : loads)
            if (address >= p.p_vaddr && within(address - p.p_vaddr, size, p.p_memsz)) return true;
        return false;
    }
    // ... and backed by the file (what the loader reads, not zero-filled memory).
    bool file_backed(std::uint64_t address, std::uint64_t size) const {
        for (const phdr& p : loads)
            if (address >= p.p_vaddr && within(address - p.p_vaddr, size, p.p_filesz)) return true;
        return false;
    }
    std::uint64_t file_offset(std::uint64_t address) const {
        for (const phdr& p : loads)
            if (address >= p.p_vaddr && address - p.p_vaddr < p.p_filesz) return p.p_offset + (address - p.p_vaddr);
        return 0;
    }
};

std::string hex(std::uint64_t v) {
    char buffer[24];
    (void)std::snprintf(buffer, sizeof buffer, "0x%llx", static_cast<unsigned long long>(v));
    return buffer;
}

// The relocation table at `address` (`size` bytes of `entry`-byte records):
// every target inside the image.
template <class Rel>
status check_relocations(std::span<const std::uint8_t> file, const image& img, std::uint64_t address,
                         std::uint64_t size, const char* what, std::string* why) {
    if (size % sizeof(Rel) != 0) return fail(why, status::malformed, std::string(what) + " size is not a whole number of entries");
    if (!img.file_backed(address, size)) return fail(why, status::malformed, std::string(what) + " lies outside the file's load segments");
    const std::uint64_t base = img.file_offset(address);
    for (std::uint64_t i = 0; i < size / sizeof(Rel); ++i) {
        const Rel r = read<Rel>(file, base + i * sizeof(Rel));
        if (!img.contains(r.r_offset, sizeof(addr)))
            return fail(why, status::malformed,
                        std::string(what) + " entry " + std::to_string(i) + " targets " + hex(r.r_offset) + ", outside the image");
    }
    return status::ok;
}

}  // namespace

status check_shared_object(std::span<const std::uint8_t> file, std::string* why) {
    const std::uint64_t size = file.size();
    if (size < sizeof(ehdr) || std::memcmp(file.data(), ELFMAG, SELFMAG) != 0)
        return fail(why, status::malformed, "not an ELF file (" + std::to_string(size) + " bytes, no ELF header)");
    const ehdr h = read<ehdr>(file, 0);
    if (h.e_ident[EI_CLASS] != native_class)
        return fail(why, status::unsupported, std::string("an ELF file of the other word size (") +
                                                  (h.e_ident[EI_CLASS] == ELFCLASS32 ? "32" : h.e_ident[EI_CLASS] == ELFCLASS64 ? "64" : "unknown") +
                                                  "-bit); this host is " + std::to_string(8 * sizeof(void*)) + "-bit");
    if (h.e_ident[EI_DATA] != native_data) return fail(why, status::unsupported, "an ELF file of the other byte order");
    if (h.e_ident[EI_VERSION] != EV_CURRENT || h.e_version != EV_CURRENT)
        return fail(why, status::malformed, "unknown ELF version " + std::to_string(h.e_version));
    if (h.e_type != ET_DYN) return fail(why, status::malformed, "not a shared object (ELF type " + std::to_string(h.e_type) + ")");
    if (native_machine >= 0 && h.e_machine != native_machine)
        return fail(why, status::unsupported,
                    "built for another processor (ELF machine " + std::to_string(h.e_machine) + ", this host is " +
                        std::to_string(native_machine) + ")");
    if (h.e_phentsize != sizeof(phdr) || h.e_phnum == 0 || h.e_phnum == PN_XNUM)
        return fail(why, status::malformed, "malformed program header table (" + std::to_string(h.e_phnum) + " entries of " +
                                                std::to_string(h.e_phentsize) + " bytes)");
    if (!within(h.e_phoff, std::uint64_t{h.e_phnum} * sizeof(phdr), size))
        return fail(why, status::malformed, "truncated: the program header table ends past the file's " + std::to_string(size) + " bytes");

    image img;
    const phdr* dynamic = nullptr;
    std::vector<phdr> headers(h.e_phnum);
    for (std::size_t i = 0; i < headers.size(); ++i) headers[i] = read<phdr>(file, h.e_phoff + i * sizeof(phdr));
    for (const phdr& p : headers) {
        if (p.p_type == PT_LOAD) {
            if (!within(p.p_offset, p.p_filesz, size))
                return fail(why, status::malformed,
                            "truncated: a load segment ends at byte " + std::to_string(p.p_offset + p.p_filesz) + " but the file has " +
                                std::to_string(size) + " bytes");
            if (p.p_filesz > p.p_memsz || p.p_memsz > max_image_bytes)
                return fail(why, status::malformed, "a load segment's sizes are inconsistent (file " + std::to_string(p.p_filesz) +
                                                        ", memory " + std::to_string(p.p_memsz) + " bytes)");
            if (p.p_align > 1 && ((p.p_align & (p.p_align - 1)) != 0 || (p.p_vaddr - p.p_offset) % p.p_align != 0))
                return fail(why, status::malformed, "a load segment is misaligned (alignment " + std::to_string(p.p_align) + ")");
            if (!img.loads.empty() && p.p_vaddr < img.loads.back().p_vaddr + img.loads.back().p_memsz)
                return fail(why, status::malformed, "load segments overlap or are out of order");
            img.loads.push_back(p);
        } else if (p.p_type == PT_DYNAMIC) {
            if (dynamic) return fail(why, status::malformed, "two dynamic sections");
            dynamic = &p;
        }
    }
    if (img.loads.empty()) return fail(why, status::malformed, "no load segments");
    if (img.loads.back().p_vaddr + img.loads.back().p_memsz - img.loads.front().p_vaddr > max_image_bytes)
        return fail(why, status::malformed, "the image spans more than 4 GiB");
    if (!dynamic) return fail(why, status::malformed, "no dynamic section (not a shared library)");
    if (!within(dynamic->p_offset, dynamic->p_filesz, size) || !img.file_backed(dynamic->p_vaddr, dynamic->p_filesz) ||
        img.file_offset(dynamic->p_vaddr) != dynamic->p_offset)
        return fail(why, status::malformed, "the dynamic section lies outside the file's load segments");

    // Walk the dynamic section up to DT_NULL, collecting what to check.
    std::uint64_t strtab = 0, strsz = 0, rela = 0, relasz = 0, rel = 0, relsz = 0, jmprel = 0, pltrelsz = 0, pltrel = 0;
    std::uint64_t arrays[3][2] = {};  // init, fini, preinit: address, size
    std::vector<std::uint64_t> string_offsets;
    bool terminated = false;
    for (std::uint64_t off = 0; off + sizeof(dyn) <= dynamic->p_filesz; off += sizeof(dyn)) {
        const dyn d = read<dyn>(file, dynamic->p_offset + off);
        const std::uint64_t v = d.d_un.d_val;
        switch (d.d_tag) {
        case DT_NULL: terminated = true; break;
        case DT_STRTAB: strtab = v; break;
        case DT_STRSZ: strsz = v; break;
        case DT_RELA: rela = v; break;
        case DT_RELASZ: relasz = v; break;
        case DT_REL: rel = v; break;
        case DT_RELSZ: relsz = v; break;
        case DT_JMPREL: jmprel = v; break;
        case DT_PLTRELSZ: pltrelsz = v; break;
        case DT_PLTREL: pltrel = v; break;
        case DT_INIT_ARRAY: arrays[0][0] = v; break;
        case DT_INIT_ARRAYSZ: arrays[0][1] = v; break;
        case DT_FINI_ARRAY: arrays[1][0] = v; break;
        case DT_FINI_ARRAYSZ: arrays[1][1] = v; break;
        case DT_PREINIT_ARRAY: arrays[2][0] = v; break;
        case DT_PREINIT_ARRAYSZ: arrays[2][1] = v; break;
        case DT_NEEDED:
        case DT_SONAME:
        case DT_RPATH:
        case DT_RUNPATH: string_offsets.push_back(v); break;
        case DT_SYMTAB:
        case DT_HASH:
        case DT_GNU_HASH:
        case DT_INIT:
        case DT_FINI:
        case DT_VERSYM:
        case DT_VERNEED:
        case DT_VERDEF:
        case DT_PLTGOT:
            if (!img.contains(v, 1))
                return fail(why, status::malformed, "dynamic entry " + std::to_string(d.d_tag) + " points outside the image (" + hex(v) + ")");
            break;
        default: break;
        }
        if (terminated) break;
    }
    if (!terminated) return fail(why, status::malformed, "the dynamic section has no end marker");
    if (strtab == 0 || !img.file_backed(strtab, strsz))
        return fail(why, status::malformed, "the dynamic string table lies outside the file's load segments");
    const std::uint64_t strings = img.file_offset(strtab);
    for (std::uint64_t o : string_offsets)
        if (o >= strsz || std::memchr(file.data() + strings + o, '\0', strsz - o) == nullptr)
            return fail(why, status::malformed, "a library name lies outside the dynamic string table");
    for (const auto& a : arrays)
        if (a[1] != 0 && (a[1] % sizeof(addr) != 0 || !img.contains(a[0], a[1])))
            return fail(why, status::malformed, "an init or fini array lies outside the image");
    status s = status::ok;
    if (relasz) s = check_relocations<ElfW(Rela)>(file, img, rela, relasz, "the relocation table", why);
    if (s == status::ok && relsz) s = check_relocations<ElfW(Rel)>(file, img, rel, relsz, "the relocation table", why);
    if (s == status::ok && pltrelsz) {
        if (pltrel == DT_RELA) s = check_relocations<ElfW(Rela)>(file, img, jmprel, pltrelsz, "the PLT relocation table", why);
        else if (pltrel == DT_REL) s = check_relocations<ElfW(Rel)>(file, img, jmprel, pltrelsz, "the PLT relocation table", why);
        else s = fail(why, status::malformed, "unknown PLT relocation type " + std::to_string(pltrel));
    }
    return s;
}

}  // namespace detail
TUTTI_END_NAMESPACE
