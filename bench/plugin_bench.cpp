// What the host's guard costs per processor call: a plugin's process() called
// straight through its C function pointer (baseline) against the same call
// through plugin_instance::process (two steady_clock reads, the counters, and
// the copy of the output over the input), one 20 ms tick at 16 and 48 kHz.
// The plugin is the "half" test fixture (x0.5): the cheapest real plugin call,
// so the ratio is the worst case. Results: bench/README.md.
#include <benchmark/benchmark.h>
#include <dlfcn.h>

#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tutti/plugin_host.hpp"

namespace {

const tutti_processor_t* direct(std::uint32_t rate, std::uint32_t frames) {
    static void* handle = dlopen(TUTTI_FIXTURE_GOOD, RTLD_NOW | RTLD_LOCAL);
    if (!handle) std::abort();
    const auto* entry = static_cast<const tutti_plugin_entry_t*>(dlsym(handle, "tutti_plugin_entry"));
    char error[256];
    if (entry->init(nullptr, error, sizeof error) != 0) std::abort();
    const auto* f = static_cast<const tutti_processor_factory_t*>(entry->get_factory(TUTTI_PROCESSOR_FACTORY_ID));
    const tutti_processor_t* p = nullptr;
    if (f->create(f, "half", &p, error, sizeof error) != 0 || p->activate(p, rate, frames, error, sizeof error) != 0) std::abort();
    return p;
}

void bare_call(benchmark::State& state) {
    const auto rate = static_cast<std::uint32_t>(state.range(0)), frames = rate / 50;
    const tutti_processor_t* p = direct(rate, frames);
    std::vector<float> audio(frames, 0.25f), scratch(frames);
    const std::vector<float> fresh(frames, 0.25f);
    for (auto _ : state) {
        // Same work as the guarded path minus the guard: the call, the copy back,
        // then the refill both loops do (x0.5 every call would reach denormals).
        benchmark::DoNotOptimize(p->process(p, audio.data(), scratch.data(), frames));
        std::memcpy(audio.data(), scratch.data(), frames * sizeof(float));
        benchmark::ClobberMemory();
        std::copy(fresh.begin(), fresh.end(), audio.begin());
    }
    p->destroy(p);
}

void guarded_call(benchmark::State& state) {
    const auto rate = static_cast<std::uint32_t>(state.range(0)), frames = rate / 50;
    std::shared_ptr<tutti::plugin> plugin;
    std::shared_ptr<tutti::plugin_instance> inst;
    if (tutti::plugin::load(TUTTI_FIXTURE_GOOD, plugin) != tutti::status::ok ||
        plugin->create_processor("half", inst) != tutti::status::ok || inst->activate(rate, frames) != tutti::status::ok)
        std::abort();
    inst->set_guard({.budget_us = 0});
    std::vector<float> audio(frames, 0.25f);
    const std::vector<float> fresh(frames, 0.25f);
    for (auto _ : state) {
        inst->process(audio.data(), frames);
        benchmark::ClobberMemory();
        std::copy(fresh.begin(), fresh.end(), audio.begin());
    }
}

}  // namespace

BENCHMARK(bare_call)->ArgName("rate")->Arg(16000)->Arg(48000);
BENCHMARK(guarded_call)->ArgName("rate")->Arg(16000)->Arg(48000);
BENCHMARK_MAIN();
