#include <doctest/doctest.h>

#include <cstring>
#include <random>

#include "image_test_util.h"
#include "io/disk_image_open.h"
#include "io/qcow2_image.h"

using namespace pc64;
using namespace pc64_test;

namespace {

std::unique_ptr<BlockDevice> open_q(const std::string& path, bool writable) {
  return open_image_file(path, ImageFormat::Qcow2, writable);
}

// Reads the whole device in odd-sized pieces (exercises unaligned paths).
std::vector<uint8_t> read_all(BlockDevice& d) {
  std::vector<uint8_t> out(d.size());
  size_t pos = 0, step = 3 * 65536 + 1536 + 7;
  while (pos < out.size()) {
    size_t n = std::min(step, out.size() - pos);
    d.read(pos, out.data() + pos, n);
    pos += n;
  }
  return out;
}

std::vector<uint8_t> qemu_raw(const ScratchDir& dir, const std::string& img, const char* fmt = "qcow2") {
  std::string out = dir / "qemu-view.raw";
  ::unlink(out.c_str());
  REQUIRE(run(std::string("qemu-img convert -f ") + fmt + " -O raw '" + img + "' '" + out + "'") == 0);
  return read_file(out);
}

bool qemu_check_clean(const std::string& img) {
  int st = -1;
  std::string out = run_output("qemu-img check '" + img + "'", &st);
  if (st != 0) MESSAGE(out);
  return st == 0 && out.find("No errors") != std::string::npos;
}

// Random writes (aligned and not, crossing clusters) mirrored into `ref`.
void random_writes(BlockDevice& d, std::vector<uint8_t>& ref, uint32_t seed, int count) {
  std::mt19937 rng(seed);
  for (int i = 0; i < count; ++i) {
    size_t len = (i % 3 == 0) ? (rng() % 4 + 1) * 65536 : rng() % 20000 + 1;
    len = std::min(len, ref.size());
    size_t off = rng() % (ref.size() - len + 1);
    if (i % 2) off &= ~size_t(511);
    std::vector<uint8_t> buf(len);
    for (auto& b : buf) b = static_cast<uint8_t>(rng());
    d.write(off, buf.data(), len);
    std::memcpy(ref.data() + off, buf.data(), len);
  }
}

}  // namespace

TEST_CASE("qcow2: reads every byte as qemu-img does (compat 0.10 and 1.1, plain and compressed)") {
  ScratchDir dir;
  auto data = random_disk(5 * 1024 * 1024 + 3 * 512, 1);
  write_file(dir / "src.raw", data);
  struct Variant { const char* name; const char* args; };
  Variant variants[] = {
      {"v2", "-o compat=0.10"},
      {"v3", "-o compat=1.1"},
      {"v2c", "-c -o compat=0.10"},
      {"v3c", "-c -o compat=1.1,cluster_size=4096"},
      {"v3small", "-o compat=1.1,cluster_size=512"},
  };
  for (auto& v : variants) {
    CAPTURE(v.name);
    std::string img = dir / (std::string(v.name) + ".qcow2");
    REQUIRE(run("qemu-img convert -f raw -O qcow2 " + std::string(v.args) + " '" + (dir / "src.raw") + "' '" + img + "'") == 0);
    auto ref = qemu_raw(dir, img);
    REQUIRE(ref == data);
    auto d = open_q(img, false);
    CHECK(d->size() == data.size());
    CHECK(static_cast<Qcow2Image*>(d.get())->version() == (v.name[1] == '2' ? 2u : 3u));
    CHECK(read_all(*d) == ref);
  }
}

TEST_CASE("qcow2: backing file relative to the image's directory, zero clusters") {
  ScratchDir dir;
  REQUIRE(run("mkdir '" + (dir / "sub") + "'") == 0);
  auto base = random_disk(2 * 1024 * 1024, 2);
  write_file(dir / "sub/base.raw", base);
  std::string ov = dir / "sub/ov.qcow2";
  REQUIRE(run("qemu-img create -f qcow2 -b base.raw -F raw '" + ov + "'") == 0);
  // Some data, some explicit zero clusters (v3 zero flag) via qemu-io.
  REQUIRE(run("qemu-io -c 'write -P 0x5a 100000 70000' -c 'write -z 1048576 131072' '" + ov + "'") == 0);
  auto ref = qemu_raw(dir, ov);
  auto d = open_q(ov, false);
  CHECK(static_cast<Qcow2Image*>(d.get())->backing_file_name() == "base.raw");
  auto got = read_all(*d);
  CHECK(got == ref);
  CHECK(got[100000] == 0x5a);
  CHECK(got[1048576 + 5] == 0);
  CHECK(got[0] == base[0]);
}

TEST_CASE("qcow2: pc64 writes leave qemu-img check clean and qemu reads the same data") {
  ScratchDir dir;
  auto data = random_disk(4 * 1024 * 1024, 3);
  write_file(dir / "src.raw", data);
  struct Variant { const char* name; const char* args; };
  Variant variants[] = {
      {"v2", "-o compat=0.10"},
      {"v3", "-o compat=1.1"},
      {"v3c", "-c -o compat=1.1"},                            // compressed clusters get copied on write
      {"rc1", "-o compat=1.1,refcount_bits=1"},               // sub-byte refcounts
      {"rc64", "-o compat=1.1,refcount_bits=64"},
      {"small", "-o compat=1.1,cluster_size=512"},            // forces refcount table growth
  };
  for (auto& v : variants) {
    CAPTURE(v.name);
    std::string img = dir / (std::string(v.name) + ".qcow2");
    REQUIRE(run("qemu-img convert -f raw -O qcow2 " + std::string(v.args) + " '" + (dir / "src.raw") + "' '" + img + "'") == 0);
    std::vector<uint8_t> ref = data;
    {
      auto d = open_q(img, true);
      random_writes(*d, ref, 7, 60);
      // Rewrite an already-written region in place, and a write at the very end.
      std::vector<uint8_t> tail(4096, 0xEE);
      d->write(ref.size() - tail.size(), tail.data(), tail.size());
      std::memcpy(ref.data() + ref.size() - tail.size(), tail.data(), tail.size());
      CHECK(read_all(*d) == ref);
      d->flush();
    }
    CHECK(qemu_check_clean(img));
    CHECK(qemu_raw(dir, img) == ref);
    // And pc64 reads back its own writes after reopening.
    auto d = open_q(img, false);
    CHECK(read_all(*d) == ref);
  }
}

TEST_CASE("qcow2: writes to an image with an internal snapshot copy shared clusters") {
  ScratchDir dir;
  auto data = random_disk(3 * 1024 * 1024, 12);
  write_file(dir / "src.raw", data);
  std::string img = dir / "snap.qcow2";
  REQUIRE(run("qemu-img convert -O qcow2 -o compat=1.1 '" + (dir / "src.raw") + "' '" + img + "'") == 0);
  REQUIRE(run("qemu-img snapshot -c before '" + img + "'") == 0);
  std::vector<uint8_t> ref = data;
  {
    auto d = open_q(img, true);
    random_writes(*d, ref, 13, 30);
  }
  CHECK(qemu_check_clean(img));
  CHECK(qemu_raw(dir, img) == ref);
  // The snapshot still shows the old contents.
  std::string out = dir / "snap-view.raw";
  REQUIRE(run("qemu-img convert -l snapshot.name=before -O raw '" + img + "' '" + out + "'") == 0);
  CHECK(read_file(out) == data);
}

TEST_CASE("qcow2: created images (with and without backing file) are valid for qemu-img") {
  ScratchDir dir;
  auto base = random_disk(3 * 1024 * 1024 + 512, 4);
  write_file(dir / "base.raw", base);
  Qcow2Image::create(dir / "empty.qcow2", 10 * 1024 * 1024);
  CHECK(qemu_check_clean(dir / "empty.qcow2"));
  Qcow2Image::create(dir / "ov.qcow2", base.size(), dir / "base.raw", "raw");
  CHECK(qemu_check_clean(dir / "ov.qcow2"));
  std::vector<uint8_t> ref = base;
  {
    auto d = open_q(dir / "ov.qcow2", true);
    CHECK(read_all(*d) == base);
    random_writes(*d, ref, 9, 40);
  }
  CHECK(qemu_check_clean(dir / "ov.qcow2"));
  CHECK(qemu_raw(dir, dir / "ov.qcow2") == ref);
  CHECK(read_file(dir / "base.raw") == base);
  std::string info = run_output("qemu-img info '" + (dir / "ov.qcow2") + "'");
  CHECK(info.find("backing file format: raw") != std::string::npos);

  // 512-byte clusters: one refcount table cluster covers 8 MiB of file, so
  // writing 12 MiB makes the table move (and its old clusters get freed).
  Qcow2Image::create(dir / "grow.qcow2", 16 * 1024 * 1024, "", "", 9);
  std::vector<uint8_t> big = random_disk(12 * 1024 * 1024, 11);
  {
    auto d = open_q(dir / "grow.qcow2", true);
    d->write(0, big.data(), big.size());
  }
  auto hdr = read_file(dir / "grow.qcow2");
  CHECK(be64_at(hdr, 48) != 512);  // refcount table moved from cluster 1
  CHECK(qemu_check_clean(dir / "grow.qcow2"));
  big.resize(16 * 1024 * 1024, 0);
  CHECK(qemu_raw(dir, dir / "grow.qcow2") == big);
}

TEST_CASE("qcow2: bad images give clear errors and are never written") {
  ScratchDir dir;
  auto data = random_disk(1024 * 1024, 5);
  write_file(dir / "src.raw", data);
  std::string good = dir / "good.qcow2";
  REQUIRE(run("qemu-img convert -f raw -O qcow2 -o compat=1.1 '" + (dir / "src.raw") + "' '" + good + "'") == 0);
  auto orig = read_file(good);
  uint64_t l1_off = be64_at(orig, 40);
  uint64_t l2_off = be64_at(orig, l1_off) & 0x00FFFFFFFFFFFE00ULL;
  REQUIRE(l2_off != 0);

  auto expect_open_error = [&](const std::string& name, const std::vector<uint8_t>& bytes, const char* words) {
    CAPTURE(name);
    std::string p = dir / name;
    write_file(p, bytes);
    bool threw = false;
    try {
      open_q(p, true);
    } catch (const DiskImageError& e) {
      threw = true;
      std::string msg = e.what();
      CAPTURE(msg);
      CHECK(msg.find(p) != std::string::npos);
      CHECK(msg.find(words) != std::string::npos);
    }
    CHECK(threw);
    CHECK(read_file(p) == bytes);
  };

  expect_open_error("short.qcow2", std::vector<uint8_t>(orig.begin(), orig.begin() + 40), "too short");
  {
    auto b = orig;
    b[0] = 'X';
    expect_open_error("magic.qcow2", b, "not a qcow2");
  }
  {
    auto b = orig;
    auto v = be32_bytes(4);
    std::copy(v.begin(), v.end(), b.begin() + 4);
    expect_open_error("version.qcow2", b, "unsupported qcow2 version 4");
  }
  {
    auto b = orig;
    b[79] |= 1 << 3;  // incompatible: compression type
    expect_open_error("feature.qcow2", b, "unsupported incompatible features");
  }
  {
    auto b = orig;
    b[79] |= 1 << 0;  // dirty: readable, but not writable
    expect_open_error("dirty.qcow2", b, "dirty");
    CHECK_NOTHROW(open_q(dir / "dirty.qcow2", false));
  }
  {
    auto b = orig;
    auto v = be64_bytes(0x7FFF0000);  // L1 entry -> L2 table far past the end
    std::copy(v.begin(), v.end(), b.begin() + l1_off);
    expect_open_error("l1.qcow2", b, "outside the file");
  }
  {
    auto b = orig;
    auto v = be64_bytes(uint64_t(b.size()) * 4);
    std::copy(v.begin(), v.end(), b.begin() + 48);
    expect_open_error("reftable.qcow2", b, "refcount table");
  }
  {
    auto b = std::vector<uint8_t>(orig.begin(), orig.begin() + l2_off);  // truncated in the middle
    expect_open_error("truncated.qcow2", b, "outside the file");
  }
  {
    // L2 entry pointing past the end: opens, the read fails, writes are refused.
    auto b = orig;
    size_t e = 0;
    while (e < 65536 / 8 && be64_at(b, l2_off + e * 8) == 0) ++e;
    REQUIRE(e < 65536 / 8);
    auto v = be64_bytes((1ULL << 63) | (uint64_t(b.size()) * 16 & ~0xFFFFULL));
    std::copy(v.begin(), v.end(), b.begin() + l2_off + e * 8);
    std::string p = dir / "l2.qcow2";
    write_file(p, b);
    auto d = open_q(p, true);
    std::vector<uint8_t> buf(512);
    CHECK_THROWS_WITH_AS(d->read(e * 65536, buf.data(), 512), doctest::Contains("past the end of the file"), DiskImageError);
    CHECK_THROWS_WITH_AS(d->write(0, buf.data(), 512), doctest::Contains("refusing to write"), DiskImageError);
    d.reset();
    CHECK(read_file(p) == b);
  }
  {
    std::string ov = dir / "orphan.qcow2";
    REQUIRE(run("qemu-img create -f qcow2 -b '" + (dir / "gone.raw") + "' -F raw -u '" + ov + "' 1M") == 0);
    CHECK_THROWS_WITH_AS(open_q(ov, false), doctest::Contains("gone.raw"), DiskImageError);
  }
  {
    std::string p = dir / "missing.qcow2";
    CHECK_THROWS_WITH_AS(open_q(p, false), doctest::Contains("missing.qcow2"), DiskImageError);
  }
}
