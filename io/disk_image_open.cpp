#include "io/disk_image_open.h"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "io/host_file.h"
#include "io/memory_overlay.h"
#include "io/qcow2_image.h"
#include "io/raw_image.h"
#include "io/vhd_image.h"

namespace pc64 {

namespace {

constexpr int kMaxBackingDepth = 16;

std::string real_path(const std::string& p) {
  char buf[PATH_MAX];
  if (::realpath(p.c_str(), buf)) return buf;
  return p;
}

std::unique_ptr<BlockDevice> open_file(const std::string& path, ImageFormat format, bool writable, int depth) {
  if (depth > kMaxBackingDepth)
    throw DiskImageError("'" + path + "': backing file chain is longer than " + std::to_string(kMaxBackingDepth) +
                         " (a loop?)");
  if (format == ImageFormat::Auto) format = detect_image_format(path);
  switch (format) {
    case ImageFormat::Raw:
      return std::make_unique<RawImage>(path, writable);
    case ImageFormat::Vhd:
      return std::make_unique<VhdImage>(path, writable);
    case ImageFormat::Qcow2:
    case ImageFormat::Auto:
      break;
  }
  auto opener = [depth](const std::string& backing, const std::string& fmt) {
    ImageFormat f = ImageFormat::Auto;
    if (!fmt.empty()) {
      try {
        f = parse_image_format(fmt);
      } catch (const std::invalid_argument&) {
        throw DiskImageError("'" + backing + "': unsupported backing file format '" + fmt + "'");
      }
    }
    return open_file(backing, f, false, depth + 1);
  };
  return std::make_unique<Qcow2Image>(path, writable, opener);
}

}  // namespace

ImageFormat parse_image_format(const std::string& name) {
  if (name == "raw" || name == "iso" || name == "img") return ImageFormat::Raw;
  if (name == "qcow2") return ImageFormat::Qcow2;
  if (name == "vpc" || name == "vhd") return ImageFormat::Vhd;
  if (name == "auto" || name.empty()) return ImageFormat::Auto;
  throw std::invalid_argument("unknown disk image format '" + name + "' (use raw, qcow2 or vhd)");
}

const char* image_format_name(ImageFormat f) {
  switch (f) {
    case ImageFormat::Raw: return "raw";
    case ImageFormat::Qcow2: return "qcow2";
    case ImageFormat::Vhd: return "vpc";
    case ImageFormat::Auto: break;
  }
  return "auto";
}

ImageFormat detect_image_format(const std::string& path) {
  HostFile f(path, false, HostFile::Lock::None);
  uint64_t size = f.size();
  uint8_t s[512] = {};
  f.read_at(0, s, sizeof s);
  if (s[0] == 'Q' && s[1] == 'F' && s[2] == 'I' && s[3] == 0xFB) return ImageFormat::Qcow2;
  if (VhdImage::has_cookie(s)) return ImageFormat::Vhd;
  if (size >= 512) {
    f.read_at(size - 512, s, sizeof s);
    if (VhdImage::has_cookie(s)) return ImageFormat::Vhd;
  }
  return ImageFormat::Raw;
}

std::unique_ptr<BlockDevice> open_image_file(const std::string& path, ImageFormat format, bool writable) {
  return open_file(path, format, writable, 0);
}

std::unique_ptr<BlockDevice> open_disk_image(const std::string& path, const DiskOpenOptions& o) {
  switch (o.mode) {
    case DiskWriteMode::Direct:
      return open_image_file(path, o.format, true);
    case DiskWriteMode::ReadOnly:
      return open_image_file(path, o.format, false);
    case DiskWriteMode::Snapshot:
      return std::make_unique<MemoryOverlay>(open_image_file(path, o.format, false));
    case DiskWriteMode::Overlay:
      break;
  }
  if (o.overlay_path.empty()) throw DiskImageError("'" + path + "': no overlay file path given for copy-on-write");
  if (real_path(o.overlay_path) == real_path(path))
    throw DiskImageError("'" + path + "': the overlay file cannot be the base image itself");
  ImageFormat base_format = o.format == ImageFormat::Auto ? detect_image_format(path) : o.format;
  struct stat st;
  if (::stat(o.overlay_path.c_str(), &st) == 0) {
    // Reuse the overlay from an earlier run, but only on the same base.
    auto dev = open_image_file(o.overlay_path, ImageFormat::Qcow2, true);
    auto* q = static_cast<Qcow2Image*>(dev.get());
    std::string backing = resolve_relative(q->backing_file_name(), o.overlay_path);
    if (q->backing_file_name().empty() || real_path(backing) != real_path(path))
      throw DiskImageError("'" + o.overlay_path + "': existing overlay belongs to base '" + q->backing_file_name() +
                           "', not '" + path + "'; delete it or choose another overlay path");
    return dev;
  }
  // Check the base opens cleanly (and learn its size) before creating anything.
  uint64_t size = open_image_file(path, base_format, false)->size();
  Qcow2Image::create(o.overlay_path, size, real_path(path), image_format_name(base_format));
  try {
    return open_image_file(o.overlay_path, ImageFormat::Qcow2, true);
  } catch (...) {
    ::unlink(o.overlay_path.c_str());
    throw;
  }
}

DiskSpec parse_disk_spec(const std::string& spec, DiskWriteMode default_mode) {
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] == ',' && i + 1 < spec.size() && spec[i + 1] == ',' && parts.size() == 1) {
      parts.back() += ',';
      ++i;
    } else if (spec[i] == ',') {
      parts.emplace_back();
    } else {
      parts.back() += spec[i];
    }
  }
  DiskSpec d;
  d.path = parts[0];
  d.options.mode = default_mode;
  if (d.path.empty()) throw std::invalid_argument("disk option '" + spec + "' has no file name");
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (p == "rw") d.options.mode = DiskWriteMode::Direct;
    else if (p == "ro") d.options.mode = DiskWriteMode::ReadOnly;
    else if (p == "snapshot") d.options.mode = DiskWriteMode::Snapshot;
    else if (p.rfind("format=", 0) == 0) d.options.format = parse_image_format(p.substr(7));
    else if (p.rfind("overlay=", 0) == 0 && p.size() > 8) d.options.overlay_path = p.substr(8);
    else throw std::invalid_argument("disk option '" + spec + "': unknown setting '" + p + "'");
  }
  return d;
}

}  // namespace pc64
