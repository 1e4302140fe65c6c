#include "rivet/quality/unique.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <queue>

#include "rivet/format/csv/csv_writer.h"

namespace rivet::quality {

using columnar::Column;
using columnar::DataType;
using columnar::Int128;
using columnar::Storage;

namespace {

// A run is written in pieces of this size, and each run is read back through a buffer of
// between kMinReadBuffer and kMaxReadBuffer bytes (the merge's budget shared by the runs).
constexpr size_t kWriteBuffer = size_t{1} << 20;
constexpr size_t kMinReadBuffer = size_t{64} << 10;
constexpr size_t kMaxReadBuffer = size_t{4} << 20;

template <typename U>
void PutBigEndian(uint8_t* out, U v) {
  for (size_t i = 0; i < sizeof(U); ++i) {
    out[sizeof(U) - 1 - i] = static_cast<uint8_t>(v & 0xff);
    v >>= 8;
  }
}

template <typename U>
U GetBigEndian(const uint8_t* in) {
  U v = 0;
  for (size_t i = 0; i < sizeof(U); ++i) v = static_cast<U>((v << 8) | in[i]);
  return v;
}

// Signed integers with the sign bit flipped, big-endian: byte order is numeric order.
template <typename S, typename U>
void PutSigned(uint8_t* out, S v) {
  PutBigEndian<U>(out, static_cast<U>(static_cast<U>(v) ^ (U{1} << (sizeof(U) * 8 - 1))));
}
template <typename S, typename U>
S GetSigned(const uint8_t* in) {
  return static_cast<S>(GetBigEndian<U>(in) ^ (U{1} << (sizeof(U) * 8 - 1)));
}

// Equal floats, equal keys: -0 equals 0 and every NaN is one value, as in a SQL unique index.
template <typename F, typename U>
U CanonicalBits(F v) {
  if (v == F{0}) v = F{0};
  if (std::isnan(v)) v = std::numeric_limits<F>::quiet_NaN();
  U bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits;
}

uint64_t Prefix(const uint8_t* key, size_t length) {
  uint8_t padded[8] = {};
  std::memcpy(padded, key, std::min<size_t>(length, 8));
  return GetBigEndian<uint64_t>(padded);
}

int CompareKeys(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len) {
  const size_t n = std::min(a_len, b_len);
  if (n > 0) {
    int c = std::memcmp(a, b, n);
    if (c != 0) return c;
  }
  return a_len < b_len ? -1 : (a_len > b_len ? 1 : 0);
}

// The value a key stands for, as a one-row column (to show it as CSV would).
Column DecodeKey(const DataType& type, const std::string& key) {
  Column col(type);
  const auto* k = reinterpret_cast<const uint8_t*>(key.data());
  switch (type.storage()) {
    case Storage::kU8:
      col.Append<uint8_t>(k[0]);
      break;
    case Storage::kI32:
      col.Append<int32_t>(GetSigned<int32_t, uint32_t>(k));
      break;
    case Storage::kI64:
      col.Append<int64_t>(GetSigned<int64_t, uint64_t>(k));
      break;
    case Storage::kF32: {
      float f;
      const uint32_t bits = GetBigEndian<uint32_t>(k);
      std::memcpy(&f, &bits, sizeof f);
      col.Append<float>(f);
      break;
    }
    case Storage::kF64: {
      double d;
      const uint64_t bits = GetBigEndian<uint64_t>(k);
      std::memcpy(&d, &bits, sizeof d);
      col.Append<double>(d);
      break;
    }
    case Storage::kI128:
      col.Append<Int128>(GetSigned<Int128, unsigned __int128>(k));
      break;
    case Storage::kBytes:
    case Storage::kFixed16:
      col.AppendBytes(key.data(), key.size());
      break;
    case Storage::kList:
      col.AppendNull();
      break;
  }
  return col;
}

// The keys of `col`, one loop per storage type (dispatch once per column and batch).
template <typename T, typename Put>
void ForEachFixed(const Column& col, Put put) {
  const std::vector<T>& values = col.values<T>();
  const std::vector<uint8_t>& valid = col.validity();
  for (size_t i = 0; i < values.size(); ++i) {
    if (valid[i]) put(i, values[i]);
  }
}

// Reads the records of one sorted run: [u32 length LE][key][u64 ordinal LE].
class RunCursor {
 public:
  RunCursor(const TempFile& file, size_t buffer_bytes) : file_(file), buffer_bytes_(buffer_bytes) {}

  Result<bool> Next() {
    uint8_t head[4];
    RIVET_ASSIGN_OR_RETURN(bool got, Read(head, 4));
    if (!got) return false;
    uint32_t length = 0;
    for (int i = 3; i >= 0; --i) length = (length << 8) | head[i];
    key.resize(length);
    RIVET_ASSIGN_OR_RETURN(got, Read(reinterpret_cast<uint8_t*>(key.data()), length));
    uint8_t tail[8];
    if (got) {
      RIVET_ASSIGN_OR_RETURN(got, Read(tail, 8));
    }
    if (!got) return Error(ErrorCode::kIo, "a sorted run of the uniqueness check is truncated");
    ordinal = 0;
    for (int i = 7; i >= 0; --i) ordinal = (ordinal << 8) | tail[i];
    return true;
  }

  std::string key;
  uint64_t ordinal = 0;

 private:
  // Exactly `n` bytes, or false at a clean end of the run.
  Result<bool> Read(uint8_t* out, size_t n) {
    while (n > 0) {
      if (pos_ == buffer_.size()) {
        if (offset_ >= file_.size()) return false;
        RIVET_RETURN_IF_ERROR(file_.ReadAt(offset_, buffer_bytes_, buffer_));
        offset_ += buffer_.size();
        pos_ = 0;
        if (buffer_.empty()) return false;
      }
      const size_t take = std::min(n, buffer_.size() - pos_);
      std::memcpy(out, buffer_.data() + pos_, take);
      pos_ += take;
      out += take;
      n -= take;
    }
    return true;
  }

  const TempFile& file_;
  size_t buffer_bytes_;
  std::string buffer_;
  size_t pos_ = 0;
  uint64_t offset_ = 0;
};

}  // namespace

Status CheckUniqueType(const DataType& type) {
  if (type.storage() == Storage::kList) {
    return Error(ErrorCode::kConfig,
                 "it is a list ({}), and unique_columns checks single values; check a scalar "
                 "column, or unnest the list in the query",
                 type.ToString());
  }
  return Status::Ok();
}

UniqueCollector::UniqueCollector(DataType type, size_t memory_budget)
    : type_(std::move(type)), budget_(memory_budget) {}

uint64_t UniqueCollector::spilled_bytes() const {
  uint64_t total = 0;
  for (const TempFile& run : runs_) total += run.size();
  return total;
}

void UniqueCollector::AddKey(const uint8_t* key, size_t length, uint64_t ordinal) {
  Entry e{Prefix(key, length), ordinal, static_cast<uint32_t>(arena_.size()),
          static_cast<uint32_t>(length)};
  arena_.insert(arena_.end(), key, key + length);
  entries_.push_back(e);
}

Status UniqueCollector::Add(const Column& col, uint64_t first_ordinal) {
  const size_t values = col.size() - col.null_count();
  if (values == 0) return Status::Ok();
  // Spill before the batch rather than after it, so the budget holds (a batch of wide strings
  // larger than the whole budget is the one excess: it is spilled right after).
  size_t key_bytes =
      type_.storage() == Storage::kBytes ? static_cast<size_t>(col.offsets().back()) : values * 16;
  const size_t incoming = key_bytes + values * sizeof(Entry);
  if (!entries_.empty() && arena_.size() + entries_.size() * sizeof(Entry) + incoming > budget_) {
    RIVET_RETURN_IF_ERROR(Spill());
  }
  if (entries_.capacity() < entries_.size() + values) {
    // Grow to what the budget allows at once: no doubling past the budget.
    const size_t cap = std::max(entries_.size() + values, budget_ / 2 / sizeof(Entry));
    entries_.reserve(cap);
  }
  uint8_t buf[16];
  switch (type_.storage()) {
    case Storage::kU8:
      ForEachFixed<uint8_t>(col, [&](size_t i, uint8_t v) {
        buf[0] = v;
        AddKey(buf, 1, first_ordinal + i);
      });
      break;
    case Storage::kI32:
      ForEachFixed<int32_t>(col, [&](size_t i, int32_t v) {
        PutSigned<int32_t, uint32_t>(buf, v);
        AddKey(buf, 4, first_ordinal + i);
      });
      break;
    case Storage::kI64:
      ForEachFixed<int64_t>(col, [&](size_t i, int64_t v) {
        PutSigned<int64_t, uint64_t>(buf, v);
        AddKey(buf, 8, first_ordinal + i);
      });
      break;
    case Storage::kF32:
      ForEachFixed<float>(col, [&](size_t i, float v) {
        PutBigEndian<uint32_t>(buf, CanonicalBits<float, uint32_t>(v));
        AddKey(buf, 4, first_ordinal + i);
      });
      break;
    case Storage::kF64:
      ForEachFixed<double>(col, [&](size_t i, double v) {
        PutBigEndian<uint64_t>(buf, CanonicalBits<double, uint64_t>(v));
        AddKey(buf, 8, first_ordinal + i);
      });
      break;
    case Storage::kI128:
      ForEachFixed<Int128>(col, [&](size_t i, Int128 v) {
        PutSigned<Int128, unsigned __int128>(buf, v);
        AddKey(buf, 16, first_ordinal + i);
      });
      break;
    case Storage::kBytes: {
      const std::vector<int64_t>& offsets = col.offsets();
      for (size_t i = 0; i < col.size(); ++i) {
        if (!col.IsValid(i)) continue;
        AddKey(col.data().data() + offsets[i], static_cast<size_t>(offsets[i + 1] - offsets[i]),
               first_ordinal + i);
      }
      break;
    }
    case Storage::kFixed16:
      for (size_t i = 0; i < col.size(); ++i) {
        if (col.IsValid(i)) AddKey(col.data().data() + i * 16, 16, first_ordinal + i);
      }
      break;
    case Storage::kList:
      return Error(ErrorCode::kInternal, "unique_columns on a list column");
  }
  if (arena_.size() + entries_.size() * sizeof(Entry) > budget_) return Spill();
  return Status::Ok();
}

void UniqueCollector::SortEntries() {
  const uint8_t* arena = arena_.data();
  std::sort(entries_.begin(), entries_.end(), [arena](const Entry& a, const Entry& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    if (a.length > 8 || b.length > 8 || a.length != b.length) {
      int c = CompareKeys(arena + a.offset, a.length, arena + b.offset, b.length);
      if (c != 0) return c < 0;
    }
    return a.ordinal < b.ordinal;
  });
}

Status UniqueCollector::Spill() {
  if (entries_.empty()) return Status::Ok();
  SortEntries();
  RIVET_ASSIGN_OR_RETURN(TempFile run, TempFile::Create());
  std::string out;
  out.reserve(kWriteBuffer + 64);
  for (const Entry& e : entries_) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((e.length >> (8 * i)) & 0xff));
    out.append(reinterpret_cast<const char*>(arena_.data()) + e.offset, e.length);
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((e.ordinal >> (8 * i)) & 0xff));
    if (out.size() >= kWriteBuffer) {
      RIVET_RETURN_IF_ERROR(run.Append(out));
      out.clear();
    }
  }
  RIVET_RETURN_IF_ERROR(run.Append(out));
  runs_.push_back(std::move(run));
  entries_.clear();
  arena_.clear();
  return Status::Ok();
}

// One pass over every run and every collector's in-memory keys, in (key, ordinal) order.
struct Merger {
  struct Source {
    // Exactly one of the two: a run on disk, or a collector's sorted entries.
    std::unique_ptr<RunCursor> run;
    const UniqueCollector* memory = nullptr;
    size_t next = 0;
    const uint8_t* key = nullptr;
    size_t length = 0;
    uint64_t ordinal = 0;

    Result<bool> Advance() {
      if (run) {
        RIVET_ASSIGN_OR_RETURN(bool more, run->Next());
        if (!more) return false;
        key = reinterpret_cast<const uint8_t*>(run->key.data());
        length = run->key.size();
        ordinal = run->ordinal;
        return true;
      }
      if (next == memory->entries_.size()) return false;
      const UniqueCollector::Entry& e = memory->entries_[next++];
      key = memory->arena_.data() + e.offset;
      length = e.length;
      ordinal = e.ordinal;
      return true;
    }
  };

  static Result<Duplicates> Run(const DataType& type, std::vector<UniqueCollector>& parts,
                                size_t memory_budget) {
    size_t runs = 0;
    for (UniqueCollector& p : parts) {
      p.SortEntries();
      runs += p.runs_.size();
    }
    const size_t buffer = std::clamp(memory_budget / (runs + 1), kMinReadBuffer, kMaxReadBuffer);
    std::vector<Source> sources;
    sources.reserve(runs + parts.size());
    for (UniqueCollector& p : parts) {
      for (const TempFile& f : p.runs_) {
        Source s;
        s.run = std::make_unique<RunCursor>(f, buffer);
        sources.push_back(std::move(s));
      }
      if (!p.entries_.empty()) {
        Source s;
        s.memory = &p;
        sources.push_back(std::move(s));
      }
    }
    auto later = [&sources](size_t a, size_t b) {
      const Source& x = sources[a];
      const Source& y = sources[b];
      int c = CompareKeys(x.key, x.length, y.key, y.length);
      if (c != 0) return c > 0;
      return x.ordinal > y.ordinal;
    };
    std::priority_queue<size_t, std::vector<size_t>, decltype(later)> heap(later);
    for (size_t i = 0; i < sources.size(); ++i) {
      RIVET_ASSIGN_OR_RETURN(bool has, sources[i].Advance());
      if (has) heap.push(i);
    }

    Duplicates d;
    d.runs_merged = runs;
    std::string group;  // the key of the current group of equal keys
    bool in_group = false;
    uint64_t group_rows = 0;
    uint64_t first_ordinal = std::numeric_limits<uint64_t>::max();
    std::string first_key;
    while (!heap.empty()) {
      const size_t i = heap.top();
      heap.pop();
      Source& s = sources[i];
      if (in_group && CompareKeys(s.key, s.length, reinterpret_cast<const uint8_t*>(group.data()),
                                  group.size()) == 0) {
        ++group_rows;
        ++d.count;
        // Ordinals arrive in order within a group: the second one is the group's first repeat.
        if (group_rows == 2 && s.ordinal < first_ordinal) {
          first_ordinal = s.ordinal;
          first_key = group;
        }
      } else {
        group.assign(reinterpret_cast<const char*>(s.key), s.length);
        in_group = true;
        group_rows = 1;
      }
      RIVET_ASSIGN_OR_RETURN(bool more, s.Advance());
      if (more) heap.push(i);
    }
    if (d.count > 0) d.first = format::csv::FieldText(DecodeKey(type, first_key), 0);
    return d;
  }
};

Result<Duplicates> FindDuplicates(const DataType& type, std::vector<UniqueCollector>& parts,
                                  size_t memory_budget) {
  return Merger::Run(type, parts, memory_budget);
}

}  // namespace rivet::quality
