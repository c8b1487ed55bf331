#include <doctest/doctest.h>

#include <cstring>

#include "image_test_util.h"
#include "io/disk_image_open.h"
#include "io/memory_overlay.h"
#include "io/qcow2_image.h"

using namespace pc64;
using namespace pc64_test;

TEST_CASE("disk open: format detection and override") {
  ScratchDir dir;
  write_file(dir / "a.raw", random_disk(1024 * 1024, 31));
  REQUIRE(run("qemu-img convert -O qcow2 '" + (dir / "a.raw") + "' '" + (dir / "a.qcow2") + "'") == 0);
  REQUIRE(run("qemu-img convert -O vpc -o subformat=fixed '" + (dir / "a.raw") + "' '" + (dir / "a.vhd") + "'") == 0);
  CHECK(detect_image_format(dir / "a.raw") == ImageFormat::Raw);
  CHECK(detect_image_format(dir / "a.qcow2") == ImageFormat::Qcow2);
  CHECK(detect_image_format(dir / "a.vhd") == ImageFormat::Vhd);  // footer only at the end
  // Forcing raw shows the container bytes.
  auto raw_view = open_image_file(dir / "a.qcow2", ImageFormat::Raw, false);
  CHECK(std::string(raw_view->format_name()) == "raw");
  CHECK(parse_image_format("vhd") == ImageFormat::Vhd);
  CHECK_THROWS_AS(parse_image_format("vmdk"), std::invalid_argument);
  // Wrong override: a raw file opened as qcow2 is refused clearly.
  CHECK_THROWS_WITH_AS(open_image_file(dir / "a.raw", ImageFormat::Qcow2, false), doctest::Contains("not a qcow2"), DiskImageError);
}

TEST_CASE("disk open: the default overlay keeps the base unchanged and persists writes") {
  ScratchDir dir;
  auto base = random_disk(2 * 1024 * 1024, 32);
  write_file(dir / "base.img", base);
  DiskOpenOptions o;
  o.overlay_path = dir / "run1.qcow2";
  std::vector<uint8_t> w(10000, 0x77);
  {
    auto d = open_disk_image(dir / "base.img", o);
    CHECK(!d->read_only());
    d->write(12345, w.data(), w.size());
    std::vector<uint8_t> back(w.size());
    d->read(12345, back.data(), back.size());
    CHECK(back == w);
  }
  CHECK(read_file(dir / "base.img") == base);
  {
    // Reopened: the overlay is reused and still holds the write.
    auto d = open_disk_image(dir / "base.img", o);
    std::vector<uint8_t> back(w.size());
    d->read(12345, back.data(), back.size());
    CHECK(back == w);
  }
  int st = -1;
  run_output("qemu-img check '" + o.overlay_path + "'", &st);
  CHECK(st == 0);
  // An overlay of another base is refused.
  write_file(dir / "other.img", base);
  CHECK_THROWS_WITH_AS(open_disk_image(dir / "other.img", o), doctest::Contains("belongs to base"), DiskImageError);
}

TEST_CASE("disk open: two overlays on one base are independent; a writer excludes them") {
  ScratchDir dir;
  auto base = random_disk(1024 * 1024, 33);
  write_file(dir / "base.img", base);
  DiskOpenOptions a, b;
  a.overlay_path = dir / "a.qcow2";
  b.overlay_path = dir / "b.qcow2";
  auto da = open_disk_image(dir / "base.img", a);
  auto db = open_disk_image(dir / "base.img", b);
  std::vector<uint8_t> x(4096, 0xAA), y(4096, 0xBB), back(4096);
  da->write(0, x.data(), x.size());
  db->write(0, y.data(), y.size());
  da->read(0, back.data(), back.size());
  CHECK(back == x);
  db->read(0, back.data(), back.size());
  CHECK(back == y);
  // While readers hold the base, nobody may open it for writing.
  DiskOpenOptions rw;
  rw.mode = DiskWriteMode::Direct;
  CHECK_THROWS_WITH_AS(open_disk_image(dir / "base.img", rw), doctest::Contains("in use"), DiskImageError);
  // Nor may a second user take the same overlay.
  CHECK_THROWS_WITH_AS(open_disk_image(dir / "base.img", a), doctest::Contains("in use"), DiskImageError);
  da.reset();
  db.reset();
  CHECK(read_file(dir / "base.img") == base);
}

TEST_CASE("disk open: snapshot mode, rw mode, read-only mode, overlay over a qcow2 chain") {
  ScratchDir dir;
  auto base = random_disk(1024 * 1024, 34);
  write_file(dir / "base.raw", base);
  REQUIRE(run("qemu-img convert -O qcow2 '" + (dir / "base.raw") + "' '" + (dir / "base.qcow2") + "'") == 0);
  auto qbase = read_file(dir / "base.qcow2");
  std::vector<uint8_t> w(5000, 0x42), back(5000);
  {
    DiskOpenOptions s;
    s.mode = DiskWriteMode::Snapshot;
    auto d = open_disk_image(dir / "base.qcow2", s);
    d->write(100, w.data(), w.size());
    d->read(100, back.data(), back.size());
    CHECK(back == w);
    CHECK(static_cast<MemoryOverlay*>(d.get())->chunks_written() == 1);
  }
  CHECK(read_file(dir / "base.qcow2") == qbase);
  {
    DiskOpenOptions r;
    r.mode = DiskWriteMode::ReadOnly;
    auto d = open_disk_image(dir / "base.raw", r);
    CHECK(d->read_only());
    CHECK_THROWS_AS(d->write(0, w.data(), 10), DiskImageError);
  }
  {
    DiskOpenOptions o;
    o.overlay_path = dir / "ov.qcow2";
    auto d = open_disk_image(dir / "base.qcow2", o);
    d->write(100, w.data(), w.size());
  }
  CHECK(read_file(dir / "base.qcow2") == qbase);
  std::string info = run_output("qemu-img info '" + (dir / "ov.qcow2") + "'");
  CHECK(info.find("backing file format: qcow2") != std::string::npos);
  {
    DiskOpenOptions rw;
    rw.mode = DiskWriteMode::Direct;
    auto d = open_disk_image(dir / "base.raw", rw);
    d->write(100, w.data(), w.size());
  }
  auto now = read_file(dir / "base.raw");
  CHECK(std::memcmp(now.data() + 100, w.data(), w.size()) == 0);
  // A missing base fails before any overlay file is created.
  DiskOpenOptions o;
  o.overlay_path = dir / "never.qcow2";
  CHECK_THROWS_WITH_AS(open_disk_image(dir / "nope.img", o), doctest::Contains("nope.img"), DiskImageError);
  CHECK(::access((dir / "never.qcow2").c_str(), F_OK) != 0);
}

TEST_CASE("disk open: a snapshot-mode overlay saves and restores its written chunks") {
  ScratchDir dir;
  auto base = random_disk(1024 * 1024 + 512, 35);
  write_file(dir / "base.img", base);
  DiskOpenOptions s;
  s.mode = DiskWriteMode::Snapshot;
  auto a = open_disk_image(dir / "base.img", s);
  std::vector<uint8_t> w(70000, 0x99);
  a->write(1024 * 1024 - 1000, w.data(), 1000 + 512);  // reaches the partial last chunk
  a->write(5, w.data(), w.size());
  std::vector<uint8_t> state;
  {
    StateSerializer out(state);
    static_cast<MemoryOverlay*>(a.get())->serialize(out);
  }
  auto b = open_disk_image(dir / "base.img", s);
  StateSerializer in(state.data(), state.size());
  static_cast<MemoryOverlay*>(b.get())->serialize(in);
  CHECK(in.at_end());
  std::vector<uint8_t> x(a->size()), y(b->size());
  a->read(0, x.data(), x.size());
  b->read(0, y.data(), y.size());
  CHECK(x == y);
  CHECK(x[10] == 0x99);
  CHECK(x[200000] == base[200000]);
  // Truncated state is refused.
  StateSerializer bad(state.data(), state.size() / 2);
  CHECK_THROWS_AS(static_cast<MemoryOverlay*>(b.get())->serialize(bad), StateError);
}

TEST_CASE("disk open: drive option strings") {
  auto d = parse_disk_spec("/img/a,,b.qcow2,rw,format=qcow2", DiskWriteMode::Overlay);
  CHECK(d.path == "/img/a,b.qcow2");
  CHECK(d.options.mode == DiskWriteMode::Direct);
  CHECK(d.options.format == ImageFormat::Qcow2);
  auto c = parse_disk_spec("win7.iso", DiskWriteMode::ReadOnly);
  CHECK(c.options.mode == DiskWriteMode::ReadOnly);
  CHECK(c.options.format == ImageFormat::Auto);
  auto o = parse_disk_spec("disk.vhd,overlay=/tmp/x.qcow2", DiskWriteMode::Overlay);
  CHECK(o.options.overlay_path == "/tmp/x.qcow2");
  CHECK(parse_disk_spec("d.img,snapshot", DiskWriteMode::Overlay).options.mode == DiskWriteMode::Snapshot);
  CHECK_THROWS_WITH_AS(parse_disk_spec("d.img,rx", DiskWriteMode::Overlay), doctest::Contains("rx"), std::invalid_argument);
  CHECK_THROWS_AS(parse_disk_spec("d.img,format=vmdk", DiskWriteMode::Overlay), std::invalid_argument);
  CHECK_THROWS_AS(parse_disk_spec(",rw", DiskWriteMode::Overlay), std::invalid_argument);
}
