//go:build !(alsa && cgo)

package alsa

import "log/slog"

// openMiniaudio fails: this binary has no miniaudio (see ErrNotBuilt).
func openMiniaudio(Config, *duplex, *slog.Logger) (func(), error) {
	return nil, ErrNotBuilt
}
