package mantela

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// DiskCache keeps the last good copy of each fetched document, so that an
// exchange whose server is down still appears in the network. Entries are
// files named by the SHA-256 of the URL; each is replaced atomically (temp
// file + rename) so a crash or a concurrent reader never sees half a file.
type DiskCache struct {
	dir string
}

// NewDiskCache uses dir, creating it if needed.
func NewDiskCache(dir string) (*DiskCache, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("mantela: create cache directory: %w", err)
	}
	return &DiskCache{dir: dir}, nil
}

func (c *DiskCache) path(url string) string {
	sum := sha256.Sum256([]byte(url))
	return filepath.Join(c.dir, hex.EncodeToString(sum[:])+".json")
}

// Store saves data as the copy of url.
func (c *DiskCache) Store(url string, data []byte) (err error) {
	temp, err := os.CreateTemp(c.dir, ".tmp-*.json")
	if err != nil {
		return fmt.Errorf("mantela: cache %s: %w", url, err)
	}
	defer func() {
		if err != nil {
			// Best effort: the temp file is garbage either way.
			_ = os.Remove(temp.Name())
		}
	}()
	if _, err := temp.Write(data); err != nil {
		_ = temp.Close()
		return fmt.Errorf("mantela: cache %s: write: %w", url, err)
	}
	// Sync before rename so that after a power cut the entry is either the
	// old copy or the complete new one.
	if err := temp.Sync(); err != nil {
		_ = temp.Close()
		return fmt.Errorf("mantela: cache %s: sync: %w", url, err)
	}
	if err := temp.Close(); err != nil {
		return fmt.Errorf("mantela: cache %s: close: %w", url, err)
	}
	if err := os.Rename(temp.Name(), c.path(url)); err != nil {
		return fmt.Errorf("mantela: cache %s: rename: %w", url, err)
	}
	return nil
}

// Load returns the stored copy of url and when it was stored. The error
// wraps fs.ErrNotExist when there is none.
func (c *DiskCache) Load(url string) ([]byte, time.Time, error) {
	file, err := os.Open(c.path(url))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("mantela: cached copy of %s: %w", url, err)
	}
	defer file.Close()
	// Stat the open file, not the path, so the time belongs to the bytes read
	// even if Store replaces the entry meanwhile.
	info, err := file.Stat()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("mantela: cached copy of %s: %w", url, err)
	}
	data, err := io.ReadAll(file)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("mantela: cached copy of %s: %w", url, err)
	}
	return data, info.ModTime(), nil
}
