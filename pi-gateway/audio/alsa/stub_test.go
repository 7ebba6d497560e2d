//go:build !(alsa && cgo)

package alsa

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNotBuilt(t *testing.T) {
	_, err := Open(Config{}, nil)
	assert.ErrorIs(t, err, ErrNotBuilt)
	var d Device
	assert.Zero(t, d.Latency())
	assert.NoError(t, d.Close())
}
