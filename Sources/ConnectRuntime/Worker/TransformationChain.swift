import ConnectAPI

/// The ordered transforms of a connector, each applied only when its predicate (if any) says so
/// (`negate` XOR `predicate.test(record)`). A transform that returns nil drops the record and ends the chain.
struct TransformationChain {
    struct Stage {
        let alias: String
        let transform: any Transformation
        let predicate: (any ConnectAPI.Predicate)?
        let negate: Bool
        /// Connect's class name of the transform, for error reports.
        var className = ""
    }

    var stages: [Stage] = []

    var isEmpty: Bool { stages.isEmpty }

    /// Applies the chain; `dropped` learns the alias of the transform that dropped the record, if one did. A failing
    /// transform or predicate throws a `StagedError` (stage `TRANSFORMATION`) naming its class.
    func apply<R: ConnectRecord>(_ record: R, dropped: (String) -> Void = { _ in }) throws(StagedError) -> R? {
        var current = record
        for stage in stages {
            do {
                if let p = stage.predicate, try p.test(current) == stage.negate { continue }
                guard let next = try stage.transform.apply(current) else {
                    dropped(stage.alias)
                    return nil
                }
                current = next
            } catch {
                throw StagedError(stage: .transformation, className: stage.className, error: error)
            }
        }
        return current
    }

    func close() {
        for s in stages {
            s.transform.close()
            s.predicate?.close()
        }
    }
}
