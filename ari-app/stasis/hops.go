package stasis

import "github.com/kurodenwa/kurodenwa/internal/route"

// peerArgs are what a peer's call brings beyond the three arguments the
// engine reads:
//
//	Stasis(app,inbound,<endpoint>,<number>,<X-Kurodenwa-Hops>,<Max-Forwards>,<X-Kurodenwa-Path>)
type peerArgs struct {
	hops int    // route.ParseHops of the hop header and Max-Forwards
	path string // the path header, as received (route parses it)
}

// splitHops separates the peer arguments from the three the engine reads.
// Other arguments pass unchanged with none.
func splitHops(args []string) ([]string, peerArgs) {
	if len(args) <= 3 || (args[0] != "inbound" && args[0] != "outbound") {
		return args, peerArgs{}
	}
	at := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	return args[:3:3], peerArgs{hops: route.ParseHops(at(3), at(4)), path: at(5)}
}
