// The interface every disk image format implements: a flat array of bytes
// with random-access read and write. Sizes and offsets are in bytes; devices
// (ATA disk, ATAPI CD) work in their own sector sizes on top of it.
//
// Errors are exceptions of type DiskImageError whose message names the file
// and the problem (bad header, corrupt table, host I/O error, write to a
// read-only image). Opening a bad image throws at open time; a table found
// damaged later throws on that access, and from then on the image refuses
// writes so a damaged file is never modified further.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace pc64 {

class DiskImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class BlockDevice {
 public:
  virtual ~BlockDevice() = default;
  // Guest-visible size in bytes.
  virtual uint64_t size() const = 0;
  // [offset, offset + len) must lie within size(); otherwise DiskImageError.
  virtual void read(uint64_t offset, void* buf, size_t len) = 0;
  virtual void write(uint64_t offset, const void* buf, size_t len) = 0;
  // Makes completed writes durable on the host (fsync of every file written).
  virtual void flush() = 0;
  virtual bool read_only() const = 0;
  // Short format name as qemu-img spells it ("raw", "qcow2", "vpc", "memory").
  virtual const char* format_name() const = 0;
  // Host file behind this device, or "" for one that has none.
  virtual std::string path() const = 0;

 protected:
  // Throws unless [offset, offset + len) lies inside the device.
  void check_range(uint64_t offset, size_t len, bool write) const {
    uint64_t sz = size();
    if (offset > sz || len > sz - offset)
      throw DiskImageError(describe() + ": " + (write ? "write" : "read") + " of " + std::to_string(len) +
                           " bytes at offset " + std::to_string(offset) + " is beyond the end of the disk (" +
                           std::to_string(sz) + " bytes)");
    if (write && read_only()) throw DiskImageError(describe() + ": image is read-only");
  }
  std::string describe() const {
    std::string p = path();
    return std::string(format_name()) + " image '" + (p.empty() ? "<memory>" : p) + "'";
  }
};

}  // namespace pc64
