import Foundation

/// Writes go to a temporary name in the same folder and are renamed into place, so a reader
/// (or a rerun after a crash) never sees half a file.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let temporary = path + ".partial-\(getpid())"
        do {
            try data.write(to: URL(fileURLWithPath: temporary))
        } catch {
            throw AnalysisError(path: path, message: "cannot write the file (\(error.localizedDescription))")
        }
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw AnalysisError(path: path, message: "cannot move the written file into place: \(reason)")
        }
    }
}
