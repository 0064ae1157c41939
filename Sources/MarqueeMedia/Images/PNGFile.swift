import CPNG
import Foundation

/// 8-bit PNG files through libpng.
public enum PNGFile {
    /// Reads a PNG as RGB; an alpha channel, if any, is dropped (use `readRGBA` to keep it).
    public static func read(path: String) throws -> RGBImage {
        let (width, height, channels, pixels) = try readRaw(path: path)
        if channels == 3 { return RGBImage(width: width, height: height, pixels: pixels) }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            rgb[i * 3] = pixels[i * 4]; rgb[i * 3 + 1] = pixels[i * 4 + 1]; rgb[i * 3 + 2] = pixels[i * 4 + 2]
        }
        return RGBImage(width: width, height: height, pixels: rgb)
    }

    /// Reads a PNG as RGBA (opaque alpha when the file has none).
    public static func readRGBA(path: String) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        let (width, height, channels, pixels) = try readRaw(path: path)
        if channels == 4 { return (width, height, pixels) }
        var rgba = [UInt8](repeating: 255, count: width * height * 4)
        for i in 0..<(width * height) {
            rgba[i * 4] = pixels[i * 3]; rgba[i * 4 + 1] = pixels[i * 3 + 1]; rgba[i * 4 + 2] = pixels[i * 3 + 2]
        }
        return (width, height, rgba)
    }

    public static func write(_ image: RGBImage, to path: String) throws {
        try writeRaw(path: path, pixels: image.pixels, width: image.width, height: image.height, channels: 3)
    }

    public static func writeRGBA(pixels: [UInt8], width: Int, height: Int, to path: String) throws {
        precondition(pixels.count == width * height * 4, "RGBA pixel count does not match \(width)x\(height)")
        try writeRaw(path: path, pixels: pixels, width: width, height: height, channels: 4)
    }

    private static func readRaw(path: String) throws -> (Int, Int, Int, [UInt8]) {
        try InputFile.requireRegularFile(path)
        var image = cpng_image()
        var error = [CChar](repeating: 0, count: 256)
        guard cpng_read(path, &image, &error) == 0 else {
            throw MediaError(path: path, reason: .png(text(fromCString: error)))
        }
        defer { cpng_free(&image) }
        let count = Int(image.width) * Int(image.height) * Int(image.channels)
        let pixels = Array(UnsafeBufferPointer(start: image.pixels, count: count))
        return (Int(image.width), Int(image.height), Int(image.channels), pixels)
    }

    /// Writes to a temporary name beside the target, then renames: a reader never sees half a file.
    private static func writeRaw(path: String, pixels: [UInt8], width: Int, height: Int, channels: Int) throws {
        var error = [CChar](repeating: 0, count: 256)
        let temporary = path + ".partial-\(getpid())"
        let status = pixels.withUnsafeBufferPointer {
            cpng_write(temporary, $0.baseAddress, UInt32(width), UInt32(height), UInt32(channels), &error)
        }
        if status != 0 {
            unlink(temporary)
            throw MediaError(path: path, reason: .png(text(fromCString: error)))
        }
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw MediaError(path: path, reason: .png("cannot move the written file into place: \(reason)"))
        }
    }
}
