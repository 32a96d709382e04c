package eventlog

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// evtXML is the part of a rendered Windows event (EvtRenderEventXml) that we report.
type evtXML struct {
	System struct {
		Provider struct {
			Name string `xml:"Name,attr"`
		} `xml:"Provider"`
		EventID     string `xml:"EventID"`
		Level       string `xml:"Level"`
		TimeCreated struct {
			SystemTime string `xml:"SystemTime,attr"`
		} `xml:"TimeCreated"`
		Channel string `xml:"Channel"`
	} `xml:"System"`
	EventData struct {
		Data []struct {
			Name  string `xml:"Name,attr"`
			Value string `xml:",chardata"`
		} `xml:"Data"`
	} `xml:"EventData"`
	UserData struct {
		Inner []byte `xml:",innerxml"`
	} `xml:"UserData"`
}

// ParseWindowsEventXML turns one rendered event into an Event. log is the queried channel,
// used when the event names none.
func ParseWindowsEventXML(data []byte, log string) (Event, error) {
	var x evtXML
	if err := xml.Unmarshal(data, &x); err != nil {
		return Event{}, fmt.Errorf("parse event XML: %w", err)
	}
	ts, err := parseSystemTime(x.System.TimeCreated.SystemTime)
	if err != nil {
		return Event{}, fmt.Errorf("parse event XML: TimeCreated %q: %w", x.System.TimeCreated.SystemTime, err)
	}
	ev := Event{Log: log, Provider: x.System.Provider.Name, Timestamp: ts, Data: map[string]string{}}
	if x.System.Channel != "" {
		ev.Log = x.System.Channel
	}
	if n, err := strconv.Atoi(strings.TrimSpace(x.System.EventID)); err == nil {
		ev.EventID = intPtr(n)
	}
	if n, err := strconv.Atoi(strings.TrimSpace(x.System.Level)); err == nil {
		ev.Level = intPtr(n)
	}
	for i, d := range x.EventData.Data {
		name := d.Name
		if name == "" { // unnamed <Data> elements (classic providers): number them
			name = strconv.Itoa(i)
		}
		ev.Data[name] = d.Value
	}
	return ev, nil
}

// parseSystemTime reads "2022-10-05T16:21:05.1234567Z" (7 fractional digits) and friends.
func parseSystemTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a timestamp")
}
