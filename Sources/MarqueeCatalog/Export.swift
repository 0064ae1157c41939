// Cold-start export: one vector per title for a recommender that has no viewing history yet.

import Foundation
import MarqueeAnalysis

public enum EmbeddingExport {
    public enum Format: String, CaseIterable, Sendable { case jsonl, npy }

    /// JSON lines `{"id", "modality", "embedding"}`, or `PATH` as a float32 .npy [titles, dimensions]
    /// with `PATH.ids.txt` listing the title of each row. Returns the files written.
    @discardableResult
    public static func write(_ rows: [(titleId: String, vector: [Float])], modality: Modality, format: Format,
                             to path: String) throws -> [String] {
        switch format {
        case .jsonl:
            var text = ""
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            struct Line: Encodable { var id: String; var modality: String; var embedding: [Float] }
            for row in rows {
                text += String(decoding: try encoder.encode(Line(id: row.titleId, modality: modality.rawValue, embedding: row.vector)),
                               as: UTF8.self) + "\n"
            }
            try AtomicFile.write(Data(text.utf8), to: path)
            return [path]
        case .npy:
            let dimensions = rows.first?.vector.count ?? 0
            guard rows.allSatisfy({ $0.vector.count == dimensions }) else {
                throw AnalysisError(path: path, message: "the \(modality.rawValue) vectors do not all have \(dimensions) values")
            }
            var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows.count), \(dimensions)), }"
            while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
            header += "\n"
            var data = Data([0x93]) + Data("NUMPY".utf8)
            data += Data([1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)]) + Data(header.utf8)
            for row in rows { row.vector.withUnsafeBufferPointer { data += Data(buffer: $0) } }
            try AtomicFile.write(data, to: path)
            let ids = path + ".ids.txt"
            try AtomicFile.write(Data(rows.map(\.titleId).joined(separator: "\n").utf8 + (rows.isEmpty ? [] : [10])), to: ids)
            return [path, ids]
        }
    }
}
