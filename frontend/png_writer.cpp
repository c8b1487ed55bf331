#include "frontend/png_writer.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace pc64 {

namespace {
void put32be(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}

// A chunk: length, type, data, CRC-32 over type and data (PNG spec §5.3).
void chunk(std::vector<uint8_t>& out, const char type[4], const uint8_t* data, size_t n) {
  put32be(out, static_cast<uint32_t>(n));
  const size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  if (n) out.insert(out.end(), data, data + n);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, out.data() + start, static_cast<uInt>(n + 4));
  put32be(out, static_cast<uint32_t>(crc));
}
}  // namespace

std::vector<uint8_t> encode_png(const uint32_t* xrgb, unsigned width, unsigned height, size_t stride) {
  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  uint8_t ihdr[13];
  for (int i = 0; i < 4; ++i) ihdr[i] = static_cast<uint8_t>(width >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) ihdr[4 + i] = static_cast<uint8_t>(height >> (24 - 8 * i));
  ihdr[8] = 8;   // bit depth
  ihdr[9] = 2;   // colour type: truecolour (RGB)
  ihdr[10] = 0;  // deflate
  ihdr[11] = 0;  // adaptive filtering
  ihdr[12] = 0;  // no interlace
  chunk(out, "IHDR", ihdr, sizeof ihdr);

  // Each row: filter type 1 (Sub, the byte minus the same channel of the
  // pixel to its left), which makes flat screen areas compress to almost nothing.
  std::vector<uint8_t> raw;
  raw.reserve(size_t(height) * (1 + size_t(width) * 3));
  for (unsigned y = 0; y < height; ++y) {
    const uint32_t* row = xrgb + size_t(y) * stride;
    raw.push_back(1);
    uint32_t prev = 0;
    for (unsigned x = 0; x < width; ++x) {
      const uint32_t p = row[x];
      raw.push_back(static_cast<uint8_t>((p >> 16) - (prev >> 16)));
      raw.push_back(static_cast<uint8_t>((p >> 8) - (prev >> 8)));
      raw.push_back(static_cast<uint8_t>(p - prev));
      prev = p;
    }
  }
  uLongf zlen = compressBound(static_cast<uLong>(raw.size()));
  std::vector<uint8_t> z(zlen);
  if (compress2(z.data(), &zlen, raw.data(), static_cast<uLong>(raw.size()), 6) != Z_OK) return {};
  chunk(out, "IDAT", z.data(), zlen);
  chunk(out, "IEND", nullptr, 0);
  return out;
}

bool write_png(const std::string& path, const uint32_t* xrgb, unsigned width, unsigned height, size_t stride,
               std::string* error) {
  auto fail = [&](const std::string& why) {
    if (error) *error = why;
    return false;
  };
  if (width == 0 || height == 0) return fail("cannot write an empty " + std::to_string(width) + "x" + std::to_string(height) + " image");
  const std::vector<uint8_t> png = encode_png(xrgb, width, height, stride);
  if (png.empty()) return fail("PNG compression failed");
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return fail("cannot create " + tmp + ": " + std::strerror(errno));
  const bool ok = std::fwrite(png.data(), 1, png.size(), f) == png.size();
  const int err = errno;
  if (std::fclose(f) != 0 || !ok) {
    std::remove(tmp.c_str());
    return fail("cannot write " + tmp + ": " + std::strerror(ok ? errno : err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    return fail("cannot rename " + tmp + " to " + path + ": " + std::strerror(e));
  }
  return true;
}

}  // namespace pc64
