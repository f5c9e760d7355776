// tutti/worker_pool.hpp: optional threads that share the per-participant work
// of a tick (decoding, resampling, encoding, packetizing).
//
// A room runs its whole tick on the thread that calls tick() unless the host
// hands it a pool (room_config::workers). The host creates the pool, so the
// host decides how many threads tutti may start; one pool can serve many
// rooms, ticked one after the other from one thread. A room hands work to the
// pool only where it pays for waking another core: more than one block of
// participants, or two encodes that cost something (not G.711 or L16). A room
// of a few G.711 callers ticks on the calling thread alone; many of them
// gain from the host ticking rooms on several threads instead.
//
// How: run() publishes a job (a function and an index range), wakes the
// workers through a futex (std::atomic::wait/notify), and works on the range
// itself too; indices are claimed one at a time with an atomic counter, so a
// slow item (an Opus encode) does not hold the others up: a room's items are
// encoders and blocks of participants, never one participant, so the counter
// is touched a few hundred times a tick at most. Nothing on this path
// allocates or takes a lock. Each index's work touches only its own
// participants (or encoder), so the output is bit-identical whatever the
// thread count and whichever thread ran which index.
#pragma once

#include <cstddef>
#include <memory>

#include "tutti/config.hpp"
#include "tutti/status.hpp"

TUTTI_BEGIN_NAMESPACE

class worker_pool {
public:
    /// The most threads a pool may have (the calling thread included).
    static constexpr unsigned max_threads = 64;

    /// A pool of `threads` in all: the thread that calls run() plus
    /// threads - 1 started here (they sleep between jobs). Returns
    /// invalid_argument (0 or more than max_threads) or out_of_memory (a thread
    /// could not start). [control-thread]
    [[nodiscard]] static status create(unsigned threads, std::unique_ptr<worker_pool>& out) noexcept;
    /// Stops and joins the threads. Not while run() is running.
    ~worker_pool();
    worker_pool(const worker_pool&) = delete;
    worker_pool& operator=(const worker_pool&) = delete;

    /// Threads in all, the calling thread included.
    unsigned threads() const noexcept;

    /// The function a job runs: fn(context, index, worker) for each index;
    /// `worker` (0 .. threads()-1) identifies the thread, for per-thread
    /// scratch or counters; 0 is the thread that called run().
    using job_fn = void (*)(void* context, std::size_t index, unsigned worker) noexcept;

    /// Runs fn for every index in [0, count) across the pool and returns when
    /// all have finished. Indices are claimed in increasing order, and a
    /// thread runs the one it claimed to its end before claiming another: so
    /// fn(i) may wait for the result of an index below i, which is then held
    /// by a running thread. fn must not call run() on this pool (a host that
    /// ticks rooms inside a job gives those rooms no pool, or another one).
    /// Never allocates, locks, or throws. [one calling thread at a time]
    void run(std::size_t count, job_fn fn, void* context) noexcept;

    struct impl;

private:
    explicit worker_pool(std::unique_ptr<impl> p) noexcept;
    std::unique_ptr<impl> impl_;
};

TUTTI_END_NAMESPACE
