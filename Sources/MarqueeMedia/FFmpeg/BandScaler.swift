import CFFmpeg
import Foundation

/// The first half of `SwscaleBicubic` (every line scaled across) run on libavcodec's H.264
/// decoding threads, band by band, while the frame is being decoded.
///
/// Scaled after decoding, a 1080p frame is 3 MB read back from another core's cache or from
/// memory by the converting thread, and that thread holding a core makes libavcodec's frame
/// threads wait for their next packet: the conversion lengthened the decode by about its own
/// time. The H.264 decoder hands each band of rows to `draw_horiz_band` on its own thread as
/// soon as the loop filter has finished with it; scaled there, the band is still in that core's
/// cache, and the converting thread is left with the short vertical pass.
///
/// Bands are kept per frame buffer. A frame uses its bands only if every row came, in order,
/// as one progressive picture: a damaged slice stops drawing where it broke off, and error
/// concealment fills in rows that were never drawn. Frames the decoder flags as damaged or
/// corrupt, and any other frame, are scaled whole as before.
final class BandScaler: @unchecked Sendable {
    let filters: BicubicFilters

    /// One frame's scaled lines, keyed by the frame's first luma byte.
    final class Slot {
        let lines: ScaledLines
        fileprivate var buffer: UnsafeRawPointer?
        fileprivate var nextLine = 0
        fileprivate var intact = false
        /// Taken by the converting thread: not to be claimed for another frame until released.
        fileprivate var taken = false

        init(_ filters: BicubicFilters) { lines = ScaledLines(filters) }
        deinit { lines.deallocate() }
    }

    private let lock = NSLock()
    // Guarded by `lock`, as are the slots' fields other than `lines`.
    private var slots: [Slot] = []
    /// Frames decoded and not yet converted, at most: libavcodec's frame threads and its
    /// reordering delay, the prefetch queue, the frame being converted. Past this, frames are
    /// scaled whole. (A slot is about 150 KB at 48x27 from 1080p.)
    private static let maximumSlots = 24

    /// nil unless the stream is H.264 in yuv420p, at least 640x360, and `BicubicFilters`
    /// covers the sizes with the libswscale in use. (Small frames stay in cache anyway, and
    /// there the calls per band cost more than they save: 160x90 decoded 4% slower with bands,
    /// 1280x720 6% faster.)
    init?(stream parameters: AVCodecParameters, width: Int, height: Int) {
        guard parameters.codec_id == AV_CODEC_ID_H264, parameters.format == AV_PIX_FMT_YUV420P.rawValue,
              parameters.width * parameters.height >= 640 * 360,
              let filters = BicubicFilters(sourceWidth: Int(parameters.width), sourceHeight: Int(parameters.height),
                                           width: width, height: height)
        else { return nil }
        self.filters = filters
    }

    /// Makes `context` (not yet opened) hand its bands here. The context must not outlive this.
    func install(on context: UnsafeMutablePointer<AVCodecContext>) {
        context.pointee.opaque = Unmanaged.passUnretained(self).toOpaque()
        context.pointee.draw_horiz_band = drawBand
        // The band's own picture for every frame type. (FFmpeg 5.1's H.264 decoder passes it
        // anyway; older ones passed the previous reference picture unless asked for coded order.)
        context.pointee.slice_flags = SLICE_FLAG_CODED_ORDER
    }

    /// On a decoding thread: rows `band` of `frame` are final.
    fileprivate func scale(band: Range<Int>, of frame: UnsafePointer<AVFrame>, pictureStructure: Int32) {
        guard let y = frame.pointee.data.0, let u = frame.pointee.data.1, let v = frame.pointee.data.2 else { return }
        let key = UnsafeRawPointer(y)
        let slot: Slot? = lock.withLock {
            let slot = band.lowerBound == 0 ? claim(key) : slots.first { $0.buffer == key && !$0.taken }
            guard let slot, slot.intact else { return nil }
            // Whole progressive yuv420p frames only, each row once and in order.
            let progressive = pictureStructure == 3  // PICT_FRAME
            guard progressive, frame.pointee.format == AV_PIX_FMT_YUV420P.rawValue, band.lowerBound == slot.nextLine,
                  band.upperBound <= filters.source.height, Int(frame.pointee.width) >= filters.source.width
            else {
                slot.intact = false
                return nil
            }
            return slot
        }
        guard let slot else { return }
        #if arch(x86_64) && MARQUEE_AVX2
        filters.scaleAcross(lines: band, y: y, yStride: Int(frame.pointee.linesize.0), u: u, uStride: Int(frame.pointee.linesize.1),
                            v: v, vStride: Int(frame.pointee.linesize.2), into: slot.lines)
        #endif
        lock.withLock { slot.nextLine = band.upperBound }
    }

    /// A slot for a frame starting in `buffer`: the one it had, a free one, or a new one.
    private func claim(_ buffer: UnsafeRawPointer) -> Slot? {
        var slot = slots.first { $0.buffer == buffer && !$0.taken } ?? slots.first { $0.buffer == nil }
        if slot == nil && slots.count < Self.maximumSlots {
            slot = Slot(filters)
            slots.append(slot!)
        }
        slot?.buffer = buffer
        slot?.nextLine = 0
        slot?.intact = true
        return slot
    }

    /// On the converting thread, for each decoded frame: its slot, held until `release`, or
    /// nil. `usable` says whether the slot holds every line of this frame, scaled across.
    func take(_ frame: UnsafePointer<AVFrame>) -> (slot: Slot, usable: Bool)? {
        guard let y = frame.pointee.data.0 else { return nil }
        let key = UnsafeRawPointer(y)
        return lock.withLock {
            guard let slot = slots.first(where: { $0.buffer == key && !$0.taken }) else { return nil }
            slot.taken = true
            let usable = slot.intact && slot.nextLine == filters.source.height
                && Int(frame.pointee.width) == filters.source.width && Int(frame.pointee.height) == filters.source.height
                && frame.pointee.format == AV_PIX_FMT_YUV420P.rawValue
                && frame.pointee.decode_error_flags == 0 && frame.pointee.flags & AV_FRAME_FLAG_CORRUPT == 0
            return (slot, usable)
        }
    }

    func release(_ slot: Slot) {
        lock.withLock {
            slot.taken = false
            slot.buffer = nil
        }
    }
}

/// libavcodec's `draw_horiz_band`, called on its decoding threads with the context whose
/// `opaque` `BandScaler.install` set.
private let drawBand: @convention(c) (UnsafeMutablePointer<AVCodecContext>?, UnsafePointer<AVFrame>?,
                                      UnsafeMutablePointer<Int32>?, Int32, Int32, Int32) -> Void = { context, frame, _, y, type, height in
    guard let opaque = context?.pointee.opaque, let frame, y >= 0, height > 0 else { return }
    Unmanaged<BandScaler>.fromOpaque(opaque).takeUnretainedValue()
        .scale(band: Int(y)..<Int(y) + Int(height), of: frame, pictureStructure: type)
}
