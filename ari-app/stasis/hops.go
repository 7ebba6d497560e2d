package stasis

import "github.com/kurodenwa/kurodenwa/internal/route"

// splitHops separates the hop arguments a peer's call brings,
//
//	Stasis(app,inbound,<endpoint>,<number>,<X-Kurodenwa-Hops>,<Max-Forwards>)
//
// from the three the engine reads, and returns the hop count they give
// (route.ParseHops). Other arguments pass unchanged with a count of 0.
func splitHops(args []string) ([]string, int) {
	if len(args) <= 3 || (args[0] != "inbound" && args[0] != "outbound") {
		return args, 0
	}
	var header, maxForwards string
	header = args[3]
	if len(args) > 4 {
		maxForwards = args[4]
	}
	return args[:3:3], route.ParseHops(header, maxForwards)
}
