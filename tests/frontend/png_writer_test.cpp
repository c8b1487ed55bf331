#include <doctest/doctest.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "frontend/png_writer.h"

using namespace pc64;

namespace {
uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

// A minimal independent PNG reader for the files we write: walks the chunks,
// checks every CRC, inflates IDAT and undoes the row filters (PNG spec §9).
bool decode(const std::vector<uint8_t>& png, unsigned& w, unsigned& h, std::vector<uint32_t>& pixels) {
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (png.size() < 8 || !std::equal(sig, sig + 8, png.begin())) return false;
  std::vector<uint8_t> idat;
  bool end = false;
  for (size_t pos = 8; pos + 12 <= png.size() && !end;) {
    const uint32_t len = be32(&png[pos]);
    const std::string type(png.begin() + pos + 4, png.begin() + pos + 8);
    if (pos + 12 + len > png.size()) return false;
    const uint8_t* data = &png[pos + 8];
    if (crc32(crc32(0, Z_NULL, 0), &png[pos + 4], len + 4) != be32(data + len)) return false;
    if (type == "IHDR") {
      w = be32(data);
      h = be32(data + 4);
      if (data[8] != 8 || data[9] != 2 || data[12] != 0) return false;
    } else if (type == "IDAT") {
      idat.insert(idat.end(), data, data + len);
    } else if (type == "IEND") {
      end = true;
    }
    pos += 12 + len;
  }
  if (!end) return false;
  const size_t row = 1 + size_t(w) * 3;
  std::vector<uint8_t> raw(row * h);
  uLongf n = raw.size();
  if (uncompress(raw.data(), &n, idat.data(), idat.size()) != Z_OK || n != raw.size()) return false;
  std::vector<uint8_t> prev(row, 0);
  pixels.assign(size_t(w) * h, 0);
  for (unsigned y = 0; y < h; ++y) {
    uint8_t* r = &raw[y * row];
    for (size_t i = 1; i < row; ++i) {
      const uint8_t a = i > 3 ? r[i - 3] : 0, b = prev[i], c = i > 3 ? prev[i - 3] : 0;
      switch (r[0]) {
        case 0: break;
        case 1: r[i] = static_cast<uint8_t>(r[i] + a); break;
        case 2: r[i] = static_cast<uint8_t>(r[i] + b); break;
        case 3: r[i] = static_cast<uint8_t>(r[i] + (a + b) / 2); break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          r[i] = static_cast<uint8_t>(r[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c));
          break;
        }
        default: return false;
      }
    }
    for (unsigned x = 0; x < w; ++x) pixels[y * w + x] = uint32_t(r[1 + 3 * x]) << 16 | r[2 + 3 * x] << 8 | r[3 + 3 * x];
    prev.assign(r, r + row);
  }
  return true;
}
}  // namespace

TEST_CASE("png encoder round-trips pixels exactly") {
  const unsigned w = 37, h = 23, stride = 40;
  std::vector<uint32_t> img(stride * h, 0xDEADBEEF);  // stride padding must not leak
  for (unsigned y = 0; y < h; ++y)
    for (unsigned x = 0; x < w; ++x) img[y * stride + x] = (x * 7u) << 16 | (y * 11u) << 8 | ((x ^ y) * 13u & 0xFF);
  const std::vector<uint8_t> png = encode_png(img.data(), w, h, stride);
  unsigned dw = 0, dh = 0;
  std::vector<uint32_t> px;
  REQUIRE(decode(png, dw, dh, px));
  CHECK(dw == w);
  CHECK(dh == h);
  bool same = true;
  for (unsigned y = 0; y < h; ++y)
    for (unsigned x = 0; x < w; ++x) same &= px[y * w + x] == img[y * stride + x];
  CHECK(same);
}

TEST_CASE("write_png writes a file and reports failures") {
  const std::vector<uint32_t> img(16 * 8, 0x00FF8000);
  const std::string path = "/tmp/pc64_png_writer_test.png";
  std::string err;
  REQUIRE(write_png(path, img.data(), 16, 8, 16, &err));
  std::ifstream f(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  unsigned w = 0, h = 0;
  std::vector<uint32_t> px;
  CHECK(decode(bytes, w, h, px));
  CHECK(px.at(5) == 0x00FF8000u);
  std::remove(path.c_str());

  CHECK_FALSE(write_png("/nonexistent-dir/x.png", img.data(), 16, 8, 16, &err));
  CHECK(err.find("/nonexistent-dir/x.png.tmp") != std::string::npos);
  CHECK_FALSE(write_png(path, img.data(), 0, 8, 16, &err));
}
