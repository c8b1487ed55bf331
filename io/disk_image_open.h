// Opening disk images the way the user asked: format detection from the
// file's content (overridable), backing chains, and the copy-on-write policy
// that keeps base images untouched unless the user said `rw`:
//
//   Overlay  (default for hard disks) writes go to a qcow2 file whose backing
//            file is the base; the overlay is created at the path the caller
//            gives, or reused if it already exists (and belongs to that base).
//   Snapshot (`--snapshot`) writes go to host memory and vanish at exit.
//   Direct   (`rw`) writes go to the image itself.
//   ReadOnly writes fail (CD-ROMs).
//
// Base images are opened read-only with a shared lock, so several pc64
// processes can run from one base, each with its own overlay; writable files
// take an exclusive lock.
#pragma once
#include <memory>
#include <string>

#include "io/block_device.h"

namespace pc64 {

enum class ImageFormat { Auto, Raw, Qcow2, Vhd };
enum class DiskWriteMode { Overlay, Snapshot, Direct, ReadOnly };

// "raw"/"iso", "qcow2", "vpc"/"vhd"; throws std::invalid_argument otherwise.
ImageFormat parse_image_format(const std::string& name);
const char* image_format_name(ImageFormat f);  // as qemu-img spells it

// Looks at the content: qcow2 magic, VHD footer (at 0 or at the end),
// anything else is raw. Throws DiskImageError if the file cannot be read.
ImageFormat detect_image_format(const std::string& path);

// Opens one image file (and its backing chain, read-only).
std::unique_ptr<BlockDevice> open_image_file(const std::string& path, ImageFormat format, bool writable);

struct DiskOpenOptions {
  ImageFormat format = ImageFormat::Auto;
  DiskWriteMode mode = DiskWriteMode::Overlay;
  std::string overlay_path;  // required for Overlay
};

std::unique_ptr<BlockDevice> open_disk_image(const std::string& path, const DiskOpenOptions& options);

// A drive option as the command line spells it:
//   PATH[,rw][,ro][,snapshot][,format=raw|qcow2|vhd][,overlay=FILE]
// ("rw" = write to the image itself; ",," is a literal comma in PATH).
// `mode` starts as `default_mode` (Overlay for disks, ReadOnly for CDs).
// Throws std::invalid_argument naming the bad part.
struct DiskSpec {
  std::string path;
  DiskOpenOptions options;
};
DiskSpec parse_disk_spec(const std::string& spec, DiskWriteMode default_mode);

}  // namespace pc64
