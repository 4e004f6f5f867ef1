import Foundation
import Synchronization

/// What the herder is doing for each connector, and what it last finished, so a request that times out can say
/// why (Connect's `Stage` / `TemporaryStage` and `Stage.summarize`).
final class StageTracker: Sendable {
    struct Stage: Sendable {
        let description: String
        let startedMs: Int64
        var completedMs: Int64?
    }

    private struct State {
        var nextID = 0
        var current: [Int: (connector: String, stage: Stage)] = [:]
        var last: [String: Stage] = [:]
    }

    private let state = Mutex(State())
    private let nowMs: @Sendable () -> Int64

    init(nowMs: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.nowMs = nowMs
    }

    /// Notes that work described as `description` ("starting connector orders") began; returns its id for `end`.
    func begin(_ description: String, connector: String) -> Int {
        let started = nowMs()
        return state.withLock { s in
            s.nextID += 1
            s.current[s.nextID] = (connector, Stage(description: description, startedMs: started))
            return s.nextID
        }
    }

    func end(_ id: Int) {
        let completed = nowMs()
        state.withLock { s in
            guard let (connector, stage) = s.current.removeValue(forKey: id) else { return }
            var done = stage
            done.completedMs = completed
            s.last[connector] = done
        }
    }

    /// Connect's words for the connector's oldest stage under way, else its last completed one; nil when none.
    func summary(connector: String) -> String? {
        let stage = state.withLock { s in
            s.current.filter { $0.value.connector == connector }.min { $0.key < $1.key }?.value.stage
                ?? s.last[connector]
        }
        guard let stage else { return nil }
        let began = Timestamps.iso8601(stage.startedMs)
        guard let completed = stage.completedMs else {
            return "The worker is currently \(stage.description), which began at \(began)."
        }
        return
            "The last operation the worker completed was \(stage.description), which began at \(began) and completed at \(Timestamps.iso8601(completed))."
    }
}

extension StageTracker {
    /// Forgets a deleted connector's stages, so a connector created later under its name starts afresh.
    func forget(connector: String) {
        state.withLock { s in
            s.current = s.current.filter { $0.value.connector != connector }
            s.last[connector] = nil
        }
    }
}
