// A few frames per shot for the visual model, chosen once the shot detector has settled the
// shot, each weighted by the part of the shot it stands for.
//
// Candidate frames (a small copy every `candidateInterval` seconds) wait here until their shot
// is final. A shot of d seconds gets n = clamp(ceil(d / interval), 1, maxPerShot) frames, the
// candidates nearest the middles of its n equal parts, each standing for d / n seconds. So the
// visual embedding and tag scores weigh every shot by its duration, and a short shot between
// two regular samples is still seen. A shot too short to hold a candidate (under
// `candidateInterval`) is counted in `unseenSeconds`.
//
// Memory: candidates wait at most for the detector's lag (100 frames) plus the open shot; a
// long open shot is thinned (every other candidate dropped) whenever more than `maxPending`
// wait, so at most `maxPending` small frames are held whatever the shot's length.

import MarqueeMedia

struct SampledFrame {
    var image: RGBImage
    var time: Double
    var frame: Int
    /// The part of its shot this frame stands for.
    var range: TimeRange
    var shot: Int
}

final class ShotFrameSampler {
    struct Candidate {
        var image: RGBImage
        var time: Double
        var frame: Int
    }

    let interval: Double
    let maxPerShot: Int
    let maxPending: Int
    private var pending: [Candidate] = []
    private(set) var shotsSeen = 0
    private(set) var unseenSeconds = 0.0

    init(interval: Double, maxPerShot: Int, maxPending: Int = 32) {
        self.interval = interval
        self.maxPerShot = max(1, maxPerShot)
        self.maxPending = max(4, maxPending)
    }

    func add(_ image: RGBImage, time: Double, frame: Int) {
        pending.append(Candidate(image: image, time: time, frame: frame))
        if pending.count > maxPending {
            pending = pending.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        }
    }

    /// The frames chosen for a shot that has just become final; its candidates are released.
    func shotFinished(_ shot: Shot) -> [SampledFrame] {
        let index = shotsSeen
        shotsSeen += 1
        let inShot = pending.filter { $0.frame >= shot.startFrame && $0.frame <= shot.endFrame }
        pending.removeAll { $0.frame <= shot.endFrame }
        let duration = max(shot.end - shot.start, 0)
        guard !inShot.isEmpty else {
            unseenSeconds += duration
            return []
        }
        let wanted = min(maxPerShot, max(1, Int((duration / interval).rounded(.up))), inShot.count)
        let part = duration / Double(wanted)
        var used = Set<Int>()
        var chosen: [SampledFrame] = []
        for i in 0..<wanted {
            let target = shot.start + (Double(i) + 0.5) * part
            let pick = inShot.indices.filter { !used.contains($0) }
                .min { abs(inShot[$0].time - target) < abs(inShot[$1].time - target) }
            guard let pick else { break }
            used.insert(pick)
            let c = inShot[pick]
            chosen.append(SampledFrame(image: c.image, time: c.time, frame: c.frame,
                                       range: TimeRange(start: shot.start + Double(i) * part, end: shot.start + Double(i + 1) * part),
                                       shot: index))
        }
        return chosen.sorted { $0.time < $1.time }
    }
}
