//go:build !(alsa && cgo)

package alsa

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMiniaudioNotBuilt(t *testing.T) {
	_, err := Open(Config{Driver: DriverMiniaudio}, nil)
	assert.ErrorIs(t, err, ErrNotBuilt)
}
