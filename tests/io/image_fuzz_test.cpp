// Damaged images must give exceptions, never crashes or writes: random
// corruption of the metadata of qcow2 and VHD files, then open, read
// everything, try to write.
#include <doctest/doctest.h>

#include <random>

#include "image_test_util.h"
#include "io/disk_image_open.h"

using namespace pc64;
using namespace pc64_test;

namespace {

struct Region {
  uint64_t start, len;
};

// Opens, reads every byte, writes a little. Returns how far it got.
int exercise(const std::string& path, ImageFormat fmt) {
  int stage = 0;
  try {
    auto d = open_image_file(path, fmt, true);
    stage = 1;
    std::vector<uint8_t> buf(256 * 1024);
    for (uint64_t off = 0; off < d->size(); off += buf.size()) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), d->size() - off));
      d->read(off, buf.data(), n);
    }
    stage = 2;
    std::vector<uint8_t> w(70000, 0x3C);
    if (d->size() > w.size()) d->write(d->size() / 3, w.data(), w.size());
    stage = 3;
  } catch (const DiskImageError& e) {
    std::string msg = e.what();
    CHECK(msg.find(path) != std::string::npos);
  }
  return stage;
}

void fuzz(const std::string& dir, const std::string& good, ImageFormat fmt, const std::vector<Region>& regions,
          uint32_t seed, int rounds) {
  auto orig = read_file(good);
  std::mt19937 rng(seed);
  int opened = 0, refused = 0;
  for (int i = 0; i < rounds; ++i) {
    auto b = orig;
    int flips = 1 + rng() % 4;
    for (int f = 0; f < flips; ++f) {
      const Region& r = regions[rng() % regions.size()];
      uint64_t at = r.start + rng() % r.len;
      if (at < b.size()) b[at] = static_cast<uint8_t>(rng() % 3 == 0 ? 0xFF : rng());
    }
    if (rng() % 8 == 0) b.resize(rng() % b.size());  // truncation too
    std::string p = dir + "/fuzz" + std::to_string(i);
    write_file(p, b);
    int stage = exercise(p, fmt);
    if (stage == 0) {
      ++refused;
      CHECK(read_file(p) == b);  // a refused image is not touched
    } else {
      ++opened;
    }
    ::unlink(p.c_str());
  }
  MESSAGE("opened " << opened << ", refused " << refused);
}

}  // namespace

TEST_CASE("fuzz: corrupted qcow2 metadata never crashes") {
  ScratchDir dir;
  write_file(dir / "src.raw", random_disk(1536 * 1024, 41));
  for (const char* args : {"-o compat=1.1,cluster_size=4096", "-c -o compat=0.10,cluster_size=4096"}) {
    std::string good = dir / "good.qcow2";
    ::unlink(good.c_str());
    REQUIRE(run("qemu-img convert -O qcow2 " + std::string(args) + " '" + (dir / "src.raw") + "' '" + good + "'") == 0);
    auto b = read_file(good);
    uint64_t l1 = be64_at(b, 40), rt = be64_at(b, 48);
    std::vector<Region> regions = {{0, 120}, {l1, 16}, {rt, 32}, {be64_at(b, rt) & ~4095ULL, 64}};
    uint64_t l2 = be64_at(b, l1) & 0x00FFFFFFFFFFFE00ULL;
    if (l2) regions.push_back({l2, 4096});
    fuzz(dir.path, good, ImageFormat::Qcow2, regions, 5, 80);
  }
}

TEST_CASE("fuzz: corrupted VHD metadata never crashes") {
  ScratchDir dir;
  write_file(dir / "src.raw", random_disk(5 * 1024 * 1024, 42));
  std::string good = dir / "good.vhd";
  REQUIRE(run("qemu-img convert -O vpc -o subformat=dynamic '" + (dir / "src.raw") + "' '" + good + "'") == 0);
  auto b = read_file(good);
  uint64_t bat = be64_at(b, 512 + 16);
  // Flipping footer/header bytes mostly trips the checksums; the BAT and the
  // bitmaps are not checksummed.
  std::vector<Region> regions = {{0, 512}, {512, 1024}, {bat, 16}, {b.size() - 512, 512}, {bat + 512, 1024}};
  fuzz(dir.path, good, ImageFormat::Vhd, regions, 6, 80);
}
