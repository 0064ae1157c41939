import CFFmpeg

/// Converts decoded frames to packed RGB24 at one size with libswscale.
///
/// Options mirror what the `ffmpeg` CLI's scale filter sets, so that a frame converted here
/// is byte-identical to `ffmpeg -i FILE -s WxH -pix_fmt rgb24`: bicubic filtering, and the
/// MPEG-2 vertical chroma siting the filter assumes for yuv420p input. yuv420p frames are
/// scaled by `SwscaleBicubic`, which computes the same bytes faster, where it covers the sizes.
final class Scaler {
    let width: Int
    let height: Int
    /// Whether yuv420p frames may go through `SwscaleBicubic` (tests compare the two paths).
    let allowsPort: Bool
    private var context: OpaquePointer?
    /// libswscale's arithmetic for the current source, where SwscaleBicubic reproduces it.
    private(set) var port: SwscaleBicubic?
    private var sourceKey: (width: Int32, height: Int32, format: Int32, range: UInt32, space: UInt32) = (0, 0, -1, 0, 0)

    init(width: Int, height: Int, allowsPort: Bool = true) {
        self.width = width
        self.height = height
        self.allowsPort = allowsPort
    }

    deinit { sws_freeContext(context) }

    /// scaledAcross: every line of this frame already scaled across to this width (`BandScaler`), if they were.
    func convert(_ frame: UnsafeMutablePointer<AVFrame>, path: String, scaledAcross: ScaledLines? = nil) throws -> RGBImage {
        try prepare(for: frame.pointee, path: path)
        var image = RGBImage(width: width, height: height)
        if let port, let scaledAcross {
            image.pixels.withUnsafeMutableBufferPointer { port.scaleDown(scaledAcross, into: $0.baseAddress!) }
            return image
        }
        let planes = withUnsafeBytes(of: frame.pointee.data) { Array($0.bindMemory(to: UnsafePointer<UInt8>?.self)) }
        let strides = withUnsafeBytes(of: frame.pointee.linesize) { Array($0.bindMemory(to: Int32.self)) }
        if let port {
            image.pixels.withUnsafeMutableBufferPointer {
                port.scale(y: planes[0]!, yStride: Int(strides[0]), u: planes[1]!, uStride: Int(strides[1]),
                           v: planes[2]!, vStride: Int(strides[2]), into: $0.baseAddress!)
            }
            return image
        }
        let scaled = image.pixels.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var dst: [UnsafeMutablePointer<UInt8>?] = [buffer.baseAddress, nil, nil, nil]
            var dstStride: [Int32] = [Int32(width * 3), 0, 0, 0]
            return sws_scale(context, planes, strides, 0, frame.pointee.height, &dst, &dstStride)
        }
        if scaled < 0 { throw MediaError.ffmpeg(path, "sws_scale", scaled) }
        return image
    }

    private func prepare(for frame: AVFrame, path: String) throws {
        let key = (frame.width, frame.height, frame.format, frame.color_range.rawValue, frame.colorspace.rawValue)
        if context != nil && key == sourceKey { return }
        sws_freeContext(context)
        context = nil
        guard let ctx = sws_alloc_context() else {
            throw MediaError(path: path, reason: .other("out of memory allocating a scaler"))
        }
        let format = AVPixelFormat(frame.format)
        av_opt_set_int(UnsafeMutableRawPointer(ctx), "srcw", Int64(frame.width), 0)
        av_opt_set_int(UnsafeMutableRawPointer(ctx), "srch", Int64(frame.height), 0)
        av_opt_set_int(UnsafeMutableRawPointer(ctx), "src_format", Int64(format.rawValue), 0)
        av_opt_set_int(UnsafeMutableRawPointer(ctx), "dstw", Int64(width), 0)
        av_opt_set_int(UnsafeMutableRawPointer(ctx), "dsth", Int64(height), 0)
        av_opt_set_int(UnsafeMutableRawPointer(ctx), "dst_format", Int64(AV_PIX_FMT_RGB24.rawValue), 0)
        av_opt_set_int(UnsafeMutableRawPointer(ctx), "sws_flags", Int64(SWS_BICUBIC), 0)
        if format == AV_PIX_FMT_YUV420P {
            av_opt_set_int(UnsafeMutableRawPointer(ctx), "src_v_chr_pos", 128, 0)
        }
        let initialized = sws_init_context(ctx, nil, nil)
        if initialized < 0 {
            sws_freeContext(ctx)
            throw MediaError.ffmpeg(path, "sws_init_context", initialized)
        }
        applyColorspace(of: frame, to: ctx)
        context = ctx
        sourceKey = key
        port = format == AV_PIX_FMT_YUV420P && allowsPort ? Self.port(of: ctx, frame: frame, width: width, height: height) : nil
    }

    /// SwscaleBicubic for the context's sizes and colour details, where it covers them.
    private static func port(of ctx: OpaquePointer, frame: AVFrame, width: Int, height: Int) -> SwscaleBicubic? {
        guard let details = ColorspaceDetails(of: ctx) else { return nil }
        let inverse = details.inverseTable
        let tables = YUVToRGBTables(inverse: (inverse[0], inverse[1], inverse[2], inverse[3]), fullRange: details.sourceFull != 0,
                                    brightness: details.brightness, contrast: details.contrast, saturation: details.saturation)
        return SwscaleBicubic(sourceWidth: Int(frame.width), sourceHeight: Int(frame.height), width: width, height: height,
                              tables: tables)
    }

    /// The scale filter's `in_color_matrix=auto`: YUV coefficients from the frame's colour
    /// space (BT.601 when unknown or unsupported), range from the frame when it says.
    private func applyColorspace(of frame: AVFrame, to ctx: OpaquePointer) {
        guard var details = ColorspaceDetails(of: ctx) else { return }
        var space = Int32(frame.colorspace.rawValue)
        if space < 1 || space > 10 || space == 8 { space = Int32(AVCOL_SPC_BT470BG.rawValue) }
        let coefficients = sws_getCoefficients(space)
        if frame.color_range != AVCOL_RANGE_UNSPECIFIED { details.sourceFull = frame.color_range == AVCOL_RANGE_JPEG ? 1 : 0 }
        sws_setColorspaceDetails(ctx, coefficients, details.sourceFull, coefficients, details.destinationFull,
                                 details.brightness, details.contrast, details.saturation)
    }
}

/// A scaler context's colour conversion, as sws_getColorspaceDetails reports it.
private struct ColorspaceDetails {
    let inverseTable: UnsafeMutablePointer<Int32>
    var sourceFull: Int32
    let destinationFull: Int32
    let brightness: Int32, contrast: Int32, saturation: Int32

    init?(of ctx: OpaquePointer) {
        var inverseTable: UnsafeMutablePointer<Int32>? = nil
        var table: UnsafeMutablePointer<Int32>? = nil
        var sourceFull: Int32 = 0, destinationFull: Int32 = 0
        var brightness: Int32 = 0, contrast: Int32 = 0, saturation: Int32 = 0
        guard sws_getColorspaceDetails(ctx, &inverseTable, &sourceFull, &table, &destinationFull,
                                       &brightness, &contrast, &saturation) >= 0, let inverseTable else { return nil }
        (self.inverseTable, self.sourceFull, self.destinationFull) = (inverseTable, sourceFull, destinationFull)
        (self.brightness, self.contrast, self.saturation) = (brightness, contrast, saturation)
    }
}
