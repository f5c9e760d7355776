// The worker pool: a generation counter the workers wait on, an atomic index
// counter they claim indices from, a count of workers still busy.
#include "tutti/worker_pool.hpp"

#include <atomic>
#include <cstdint>
#include <new>
#include <thread>
#include <vector>

#include "tutti/detail/cpu_relax.hpp"

TUTTI_BEGIN_NAMESPACE

namespace {
// Spin this many polls before sleeping on the futex: the phases of one tick
// follow each other within microseconds, a system call per wake-up would cost
// more than the work of a small room.
constexpr int spin_polls = 4000;
using detail::cpu_relax;
}  // namespace

struct worker_pool::impl {
    unsigned thread_count = 1;
    std::vector<std::thread> threads;

    // The job. Written by run() before the generation is bumped (release),
    // read by workers after they see it (acquire).
    job_fn fn = nullptr;
    void* context = nullptr;
    std::size_t count = 0;

    alignas(64) std::atomic<std::uint32_t> generation{0};
    alignas(64) std::atomic<std::size_t> next{0};
    alignas(64) std::atomic<std::uint32_t> busy{0};  // workers (not the caller) still inside the job
    std::atomic<bool> stopping{false};

    void work(unsigned worker) noexcept {
        for (;;) {
            const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
            if (i >= count) return;
            fn(context, i, worker);
        }
    }

    void worker_main(unsigned worker) noexcept {
        std::uint32_t seen = 0;
        for (;;) {
            std::uint32_t g = generation.load(std::memory_order_acquire);
            for (int i = 0; g == seen && i < spin_polls; ++i) {
                cpu_relax();
                g = generation.load(std::memory_order_acquire);
            }
            while (g == seen) {
                generation.wait(seen, std::memory_order_acquire);
                g = generation.load(std::memory_order_acquire);
            }
            seen = g;
            if (stopping.load(std::memory_order_acquire)) return;
            work(worker);
            if (busy.fetch_sub(1, std::memory_order_acq_rel) == 1) busy.notify_one();
        }
    }
};

worker_pool::worker_pool(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}

status worker_pool::create(unsigned threads, std::unique_ptr<worker_pool>& out) noexcept {
    if (threads < 1 || threads > max_threads) return status::invalid_argument;
    std::unique_ptr<worker_pool> pool;
    try {
        pool.reset(new worker_pool(std::make_unique<impl>()));
        impl& m = *pool->impl_;
        m.thread_count = threads;
        m.threads.reserve(threads - 1);
        for (unsigned w = 1; w < threads; ++w) m.threads.emplace_back([&m, w] { m.worker_main(w); });
    } catch (...) {  // std::bad_alloc or std::system_error: the destructor joins what started
        if (pool && pool->impl_) pool->impl_->thread_count = static_cast<unsigned>(pool->impl_->threads.size()) + 1;
        return status::out_of_memory;
    }
    out = std::move(pool);
    return status::ok;
}

worker_pool::~worker_pool() {
    if (!impl_) return;
    impl& m = *impl_;
    m.stopping.store(true, std::memory_order_release);
    m.generation.fetch_add(1, std::memory_order_acq_rel);
    m.generation.notify_all();
    for (auto& t : m.threads) t.join();
}

unsigned worker_pool::threads() const noexcept { return impl_->thread_count; }

void worker_pool::run(std::size_t count, job_fn fn, void* context) noexcept {
    impl& m = *impl_;
    if (count == 0) return;
    const auto helpers = static_cast<std::uint32_t>(m.threads.size());
    if (helpers == 0 || count == 1) {
        for (std::size_t i = 0; i < count; ++i) fn(context, i, 0);
        return;
    }
    m.fn = fn;
    m.context = context;
    m.count = count;
    m.next.store(0, std::memory_order_relaxed);
    m.busy.store(helpers, std::memory_order_relaxed);
    m.generation.fetch_add(1, std::memory_order_release);
    m.generation.notify_all();
    m.work(0);
    std::uint32_t b = m.busy.load(std::memory_order_acquire);
    for (int i = 0; b != 0 && i < spin_polls; ++i) {
        cpu_relax();
        b = m.busy.load(std::memory_order_acquire);
    }
    while (b != 0) {
        m.busy.wait(b, std::memory_order_acquire);
        b = m.busy.load(std::memory_order_acquire);
    }
}

TUTTI_END_NAMESPACE
