package baresip

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStartPortTaken: baresip also binds SIPPort+1 (SIP over TLS); when
// that is taken Start says so with errAddrInUse, which is what makes it
// try again with fresh ports when it picked them itself.
func TestStartPortTaken(t *testing.T) {
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Skip("skipping: no baresip on PATH (Debian package baresip-core; make deps installs it)")
	}
	var sip int
	var taken net.Listener
	for range 20 {
		sip, err = FreePort()
		require.NoError(t, err)
		if taken, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", sip+1)); err == nil {
			break
		}
	}
	require.NotNil(t, taken, "no port pair free on 127.0.0.1")
	defer taken.Close()
	b, err := Start(context.Background(), bin, Options{Dir: t.TempDir(), SIPPort: sip})
	if err == nil {
		b.Close()
	}
	require.ErrorIs(t, err, errAddrInUse, "baresip must not start with 127.0.0.1:%d taken", sip+1)
}
