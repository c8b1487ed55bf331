// Screenshots as PNG (ISO/IEC 15948 / W3C PNG 2nd ed.): 8-bit RGB, one IDAT
// compressed with zlib, CRC-32 on every chunk. No other library needed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pc64 {

// Encodes 0x00RRGGBB pixels (`stride` pixels per row) as a PNG file image.
std::vector<uint8_t> encode_png(const uint32_t* xrgb, unsigned width, unsigned height, size_t stride);

// Encodes and writes `path` through a temporary file and a rename, so a
// failed write never leaves a truncated PNG. On failure returns false and
// puts the reason in *error (if given).
bool write_png(const std::string& path, const uint32_t* xrgb, unsigned width, unsigned height, size_t stride,
               std::string* error = nullptr);

}  // namespace pc64
