// Command glpifake runs the fake GLPI server for manual tries: it prints its URL and logs
// every inventory it accepts or rejects until interrupted.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/omniagent/omniagent/protocols/glpi/glpifake"
)

func main() {
	plugin := flag.Bool("plugin", true, "act as the glpiinventory plugin too (deploy)")
	xmlMode := flag.Bool("xml", false, "act as a FusionInventory-era (XML) server")
	flag.Parse()
	s, err := glpifake.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer s.Close()
	s.Set(func(s *glpifake.Server) { s.Plugin, s.XMLMode = *plugin, *xmlMode })
	fmt.Println(s.URL + "/front/inventory.php")
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	seenInv, seenRej := 0, 0
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.Get(func(s *glpifake.Server) {
				for ; seenInv < len(s.Inventories); seenInv++ {
					i := s.Inventories[seenInv]
					fmt.Printf("accepted inventory from %s: partial=%v %s, %d sections\n", i.DeviceID, i.Partial, i.Encoding, len(i.Content))
				}
				for ; seenRej < len(s.Rejected); seenRej++ {
					fmt.Printf("rejected: %s\n", s.Rejected[seenRej])
				}
			})
		}
	}
}
