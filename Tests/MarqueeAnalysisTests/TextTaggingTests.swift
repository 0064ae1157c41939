import Foundation
import MarqueeAnalysis
import MarqueeMedia
import XCTest

/// Title text, keyphrases and themes on fixtures with known subjects
/// (Fixtures/make_dialogue.py writes them).
final class TextTaggingTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    nonisolated(unsafe) static var loaded: TextTagger?

    static func tagger() throws -> TextTagger {
        if let loaded { return loaded }
        let tagger = TextTagger(encoder: try TextEncoder())
        loaded = tagger
        return tagger
    }

    func testSubtitlesAreGroupedIntoWindowsOfAboutAMinute() throws {
        let text = try TitleText.read(path: Self.fixture("mars_mission.srt"))
        XCTAssertNil(text.metadata)
        // 60 cues, one every 4 s from 1 s: windows start at 1, 61, 121, 181.
        XCTAssertEqual(text.subtitles.map(\.start), [1, 61, 121, 181])
        XCTAssert(text.subtitles[0].text.hasPrefix("Houston, this is Ares Four."))
    }

    func testDialogueAboutAMarsMissionIsTaggedWithSpaceExplorationAndMars() throws {
        let tags = try Self.tagger().tag(path: Self.fixture("mars_mission.srt"))
        print("themes:", tags.themes.map { "\($0.label) \($0.score) \($0.calibrated)" })
        print("keyphrases:", tags.keyphrases.map { "\($0.phrase) \($0.score)" })
        XCTAssertEqual(tags.documents, 4)
        XCTAssert(tags.themes.prefix(3).contains { $0.label == "space exploration" }, "\(tags.themes.map(\.label))")
        XCTAssert(tags.keyphrases.prefix(3).contains { $0.phrase.contains("mars") }, "\(tags.keyphrases.map(\.phrase))")
        XCTAssertFalse(tags.themes.contains { ["romantic comedy", "western", "cooking show"].contains($0.label) })
    }

    func testSidecarJSONAloneGivesThemesAndKeyphrases() throws {
        let tags = try Self.tagger().tag(path: Self.fixture("mars_mission.json"))
        XCTAssertEqual(tags.documents, 1)
        XCTAssert(tags.themes.prefix(3).contains { $0.label == "space exploration" }, "\(tags.themes.map(\.label))")
        XCTAssertFalse(tags.keyphrases.isEmpty)
    }

    func testAnEmptySubtitleFileGivesAnEmptyResultWithANote() throws {
        let tags = try Self.tagger().tag(path: Self.fixture("empty.srt"))
        XCTAssertEqual(tags.documents, 0)
        XCTAssertEqual(tags.keyphrases, [])
        XCTAssertEqual(tags.themes, [])
        XCTAssertNil(tags.vector)
        XCTAssert(tags.notes.contains("No text to analyse."), "\(tags.notes)")
    }

    func testAVideoWithoutTextGivesAnEmptyResultWithANote() throws {
        let video = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Media/fixtures/video_only.mp4").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: video), "Media/fixtures not made")
        let tags = try Self.tagger().tag(path: video)
        XCTAssertEqual(tags.keyphrases, [])
        XCTAssertEqual(tags.themes, [])
        XCTAssert(tags.notes.contains { $0.contains("no text subtitles") }, "\(tags.notes)")
    }

    func testAMissingFileIsAnErrorThatNamesIt() {
        XCTAssertThrowsError(try TitleText.read(path: "/no/such/title.mkv")) { error in
            XCTAssert("\(error)".contains("/no/such/title.mkv"))
        }
    }

    func testCandidatesDropStopWordsAndSpanOneToThreeWords() {
        let found = Keyphrases.candidates(in: ["The red planet is far from the Earth. Red planet!"]).map(\.phrase)
        XCTAssertEqual(found.first, "red")
        XCTAssert(found.contains("red planet far"))
        XCTAssertFalse(found.contains { $0.split(separator: " ").contains("the") })
        XCTAssertFalse(found.contains("planet earth red"), "n-grams do not cross sentences")
    }

    func testMaximalMarginalRelevanceTradesRelevanceForDiversity() {
        let document: [Float] = [1, 0, 0]
        let near: [Float] = TextEncoder.normalized([1, 0.1, 0])
        let nearTwin: [Float] = TextEncoder.normalized([1, 0.11, 0])
        let other: [Float] = TextEncoder.normalized([0.6, 0, 0.8])
        XCTAssertEqual(Keyphrases.maximalMarginalRelevance(document: document, candidates: [near, nearTwin, other], count: 2, diversity: 0),
                       [0, 1])
        XCTAssertEqual(Keyphrases.maximalMarginalRelevance(document: document, candidates: [near, nearTwin, other], count: 2, diversity: 0.5),
                       [0, 2])
    }

    func testLongDocumentsAreCutIntoOverlappingWindowsThatCoverEveryPiece() {
        let pieces = (0..<600).map(Int32.init)
        let windows = TextEncoder.windows(pieces, size: 254, stride: 192)
        XCTAssertEqual(windows.map(\.startIndex), [0, 192, 346])
        XCTAssert(windows.allSatisfy { $0.count == 254 })
        XCTAssertEqual(windows.last?.last, 599)
        XCTAssertEqual(TextEncoder.windows(Array(pieces.prefix(10))).count, 1)
    }

    func testTheVocabularyHasAtLeastOneHundredDescribedLabels() {
        XCTAssertGreaterThanOrEqual(ThemeVocabulary.labels.count, 100)
        XCTAssertEqual(Set(ThemeVocabulary.labels.map(\.name)).count, ThemeVocabulary.labels.count)
        XCTAssert(ThemeVocabulary.labels.allSatisfy { !$0.description.isEmpty })
    }
}
