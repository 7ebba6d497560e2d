package stasis

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSplitHops(t *testing.T) {
	tests := []struct {
		args     []string
		wantArgs []string
		wantHops int
	}{
		{[]string{"inbound", "peer-b", "201", "3", "70"}, []string{"inbound", "peer-b", "201"}, 3},
		{[]string{"inbound", "peer-b", "201", "", "66"}, []string{"inbound", "peer-b", "201"}, 4},
		{[]string{"inbound", "peer-b", "201", "2"}, []string{"inbound", "peer-b", "201"}, 2},
		{[]string{"inbound", "peer-b", "201", "x", "y"}, []string{"inbound", "peer-b", "201"}, 0},
		{[]string{"outbound", "blackphone", "201"}, []string{"outbound", "blackphone", "201"}, 0},
		{[]string{"dialled"}, []string{"dialled"}, 0},
		{nil, nil, 0},
		{[]string{"other", "a", "b", "c"}, []string{"other", "a", "b", "c"}, 0},
	}
	for _, tt := range tests {
		args, peer := splitHops(tt.args)
		assert.Equal(t, tt.wantArgs, args, "%q", tt.args)
		assert.Equal(t, tt.wantHops, peer.hops, "%q", tt.args)
	}
	_, peer := splitHops([]string{"inbound", "peer-b", "201", "2", "", "aa.bb"})
	assert.Equal(t, peerArgs{hops: 2, path: "aa.bb"}, peer)
}
