package route

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEndpointOf(t *testing.T) {
	for name, want := range map[string]string{
		"blackphone":                 "blackphone",
		"peer-shibuya":               "peer-shibuya",
		"PJSIP/blackphone-0000002a":  "blackphone",
		"PJSIP/peer-shibuya-0000001": "peer-shibuya",
		"Local/201@from-twilio;2":    "",
		"PJSIP/":                     "",
		"":                           "",
	} {
		assert.Equal(t, want, EndpointOf(name), name)
	}
}
