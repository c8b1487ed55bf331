#include <doctest/doctest.h>

#include <cstring>
#include <random>

#include "image_test_util.h"
#include "io/disk_image_open.h"
#include "io/vhd_image.h"

using namespace pc64;
using namespace pc64_test;

namespace {

std::vector<uint8_t> qemu_vpc_raw(const ScratchDir& dir, const std::string& img) {
  std::string out = dir / "qemu-view.raw";
  ::unlink(out.c_str());
  REQUIRE(run("qemu-img convert -f vpc -O raw '" + img + "' '" + out + "'") == 0);
  return read_file(out);
}

std::vector<uint8_t> read_all(BlockDevice& d) {
  std::vector<uint8_t> out(d.size());
  size_t pos = 0, step = 1024 * 1024 + 1000;
  while (pos < out.size()) {
    size_t n = std::min(step, out.size() - pos);
    d.read(pos, out.data() + pos, n);
    pos += n;
  }
  return out;
}

}  // namespace

TEST_CASE("vhd: fixed and dynamic images read exactly as qemu-img reads them") {
  ScratchDir dir;
  auto data = random_disk(7 * 1024 * 1024 + 4096, 21);
  write_file(dir / "src.raw", data);
  for (const char* sub : {"fixed", "dynamic"}) {
    CAPTURE(sub);
    std::string img = dir / (std::string(sub) + ".vhd");
    REQUIRE(run("qemu-img convert -f raw -O vpc -o subformat=" + std::string(sub) + " '" + (dir / "src.raw") + "' '" + img + "'") == 0);
    auto ref = qemu_vpc_raw(dir, img);
    REQUIRE(ref.size() >= data.size());  // CHS geometry rounds the size up
    CHECK(detect_image_format(img) == ImageFormat::Vhd);
    auto d = open_image_file(img, ImageFormat::Auto, false);
    CHECK(std::string(d->format_name()) == "vpc");
    CHECK(static_cast<VhdImage*>(d.get())->dynamic() == (sub[0] == 'd'));
    CHECK(d->size() == ref.size());
    CHECK(read_all(*d) == ref);
  }
}

TEST_CASE("vhd: pc64 writes (block allocation, bitmaps, partial sectors) read back identically in qemu-img") {
  ScratchDir dir;
  auto data = random_disk(9 * 1024 * 1024, 22);
  write_file(dir / "src.raw", data);
  for (const char* sub : {"fixed", "dynamic"}) {
    CAPTURE(sub);
    std::string img = dir / (std::string(sub) + ".vhd");
    REQUIRE(run("qemu-img convert -f raw -O vpc -o subformat=" + std::string(sub) + " '" + (dir / "src.raw") + "' '" + img + "'") == 0);
    auto ref = qemu_vpc_raw(dir, img);
    {
      auto d = open_image_file(img, ImageFormat::Vhd, true);
      std::mt19937 rng(5);
      for (int i = 0; i < 50; ++i) {
        size_t len = i % 4 == 0 ? 600000 : rng() % 5000 + 1;
        size_t off = rng() % (ref.size() - len);
        std::vector<uint8_t> buf(len);
        for (auto& b : buf) b = static_cast<uint8_t>(rng());
        d->write(off, buf.data(), len);
        std::memcpy(ref.data() + off, buf.data(), len);
      }
      CHECK(read_all(*d) == ref);
      d->flush();
    }
    CHECK(qemu_vpc_raw(dir, img) == ref);
    int st = -1;
    std::string info = run_output("qemu-img info -f vpc '" + img + "'", &st);
    CHECK(st == 0);
    auto d = open_image_file(img, ImageFormat::Vhd, false);
    CHECK(read_all(*d) == ref);
  }
}

TEST_CASE("vhd: a fresh dynamic image allocates blocks on demand and keeps its footer") {
  ScratchDir dir;
  std::string img = dir / "empty.vhd";
  REQUIRE(run("qemu-img create -f vpc -o subformat=dynamic '" + img + "' 20M") == 0);
  auto before = read_file(img).size();
  auto ref = qemu_vpc_raw(dir, img);
  {
    auto d = open_image_file(img, ImageFormat::Auto, true);
    std::vector<uint8_t> buf(3 * 512, 0xA5);
    d->write(5 * 1024 * 1024 + 700, buf.data(), buf.size());  // unaligned, one block
    std::memcpy(ref.data() + 5 * 1024 * 1024 + 700, buf.data(), buf.size());
  }
  auto file = read_file(img);
  CHECK(file.size() > before);
  CHECK(std::memcmp(file.data() + file.size() - 512, "conectix", 8) == 0);
  CHECK(qemu_vpc_raw(dir, img) == ref);
}

TEST_CASE("vhd: bad images give clear errors and are never written") {
  ScratchDir dir;
  auto data = random_disk(3 * 1024 * 1024, 23);
  write_file(dir / "src.raw", data);
  std::string good = dir / "good.vhd";
  REQUIRE(run("qemu-img convert -f raw -O vpc -o subformat=dynamic '" + (dir / "src.raw") + "' '" + good + "'") == 0);
  auto orig = read_file(good);
  auto expect_error = [&](const std::string& name, const std::vector<uint8_t>& bytes, const char* words) {
    CAPTURE(name);
    std::string p = dir / name;
    write_file(p, bytes);
    bool threw = false;
    try {
      VhdImage v(p, true);
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
  {
    auto b = orig;
    b[b.size() - 512 + 70] ^= 1;  // inside the unique id: checksum no longer matches
    expect_error("footer.vhd", b, "footer checksum");
  }
  {
    auto b = orig;
    b[512 + 100] ^= 1;  // dynamic header (parent name area)
    expect_error("dynhdr.vhd", b, "dynamic header checksum");
  }
  expect_error("truncated.vhd", std::vector<uint8_t>(orig.begin(), orig.begin() + orig.size() / 2), "footer at the end");
  expect_error("tiny.vhd", std::vector<uint8_t>(orig.begin(), orig.begin() + 100), "not a VHD");
  {
    // BAT entry 0 pointing far past the end.
    auto b = orig;
    uint64_t bat = be64_at(b, 512 + 16);
    auto v = be32_bytes(0x00F00000);
    std::copy(v.begin(), v.end(), b.begin() + bat);
    expect_error("bat.vhd", b, "BAT entry 0 points past the end");
  }
  {
    auto b = orig;
    // Differencing disk type, checksum fixed up so only the type is at fault.
    for (size_t base : {size_t(0), b.size() - 512}) {
      b[base + 63] = 4;
      uint32_t sum = 0;
      for (size_t i = 0; i < 512; ++i)
        if (i < 64 || i >= 68) sum += b[base + i];
      auto v = be32_bytes(~sum);
      std::copy(v.begin(), v.end(), b.begin() + base + 64);
    }
    expect_error("diff.vhd", b, "differencing");
  }
}
