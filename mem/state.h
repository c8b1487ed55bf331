// One serializer used both ways (save and restore), so a field cannot be
// saved but not restored. Each component writes `void serialize(StateSerializer& s)`
// and calls s(field) for every piece of its state, in a fixed order.
// Lives in mem/ because that is the bottom layer every other layer may use.
#pragma once
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace pc64 {

// Thrown when restoring from data that is truncated or does not match.
class StateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class StateSerializer {
 public:
  // Saving: appends to `out`.
  explicit StateSerializer(std::vector<uint8_t>& out) : out_(&out) {}
  // Restoring: reads from [data, data + size).
  StateSerializer(const uint8_t* data, size_t size) : in_(data), in_size_(size) {}

  bool loading() const { return out_ == nullptr; }
  // True when a restore has consumed exactly all its input.
  bool at_end() const { return loading() && in_pos_ == in_size_; }

  void bytes(void* p, size_t n) {
    if (out_) {
      const auto* b = static_cast<const uint8_t*>(p);
      out_->insert(out_->end(), b, b + n);
    } else {
      if (n > in_size_ - in_pos_) throw StateError("state data is truncated");
      std::memcpy(p, in_ + in_pos_, n);
      in_pos_ += n;
    }
  }

  template <class T>
    requires std::is_trivially_copyable_v<T>
  void operator()(T& v) {
    bytes(&v, sizeof v);
  }

  template <class T>
    requires std::is_trivially_copyable_v<T>
  void operator()(std::vector<T>& v) {
    uint64_t n = v.size();
    (*this)(n);
    if (loading()) {
      if (n > (in_size_ - in_pos_) / (sizeof(T) ? sizeof(T) : 1)) throw StateError("state data is truncated");
      v.resize(n);
    }
    if (n) bytes(v.data(), n * sizeof(T));
  }

  void operator()(std::string& s) {
    uint64_t n = s.size();
    (*this)(n);
    if (loading()) {
      if (n > in_size_ - in_pos_) throw StateError("state data is truncated");
      s.resize(n);
    }
    if (n) bytes(s.data(), n);
  }

  // A tag written on save and checked on restore: catches a component reading
  // another's data after a layout change.
  void tag(uint32_t magic) {
    uint32_t v = magic;
    (*this)(v);
    if (loading() && v != magic) throw StateError("state section tag mismatch");
  }

 private:
  std::vector<uint8_t>* out_ = nullptr;
  const uint8_t* in_ = nullptr;
  size_t in_size_ = 0;
  size_t in_pos_ = 0;
};

}  // namespace pc64
