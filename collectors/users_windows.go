package collectors

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/omniagent/omniagent/inventory"
)

// userInfo20 is USER_INFO_20 (lmaccess.h).
type userInfo20 struct {
	Name     *uint16
	FullName *uint16
	Comment  *uint16
	Flags    uint32
	UserID   uint32
}

// localGroupInfo1 is LOCALGROUP_INFO_1.
type localGroupInfo1 struct {
	Name    *uint16
	Comment *uint16
}

// localGroupMembersInfo3 is LOCALGROUP_MEMBERS_INFO_3.
type localGroupMembersInfo3 struct {
	DomainAndName *uint16
}

const (
	filterNormalAccount = 0x2
	ufAccountDisable    = 0x2
	maxPreferredLength  = 0xFFFFFFFF
	maxNetPages         = 1000 // a paging loop that never ends is a bug, not a big machine
)

// winCollectUsers lists local accounts (NetUserEnum) and local groups with their members
// (NetLocalGroupEnum/GetMembers). When the account database is unreadable it falls back to the
// profiles on disk (ProfileList), which also covers domain accounts that logged on here.
func winCollectUsers(ctx context.Context, inv *inventory.Inventory) error {
	users, uerr := netUsers()
	groups, gerr := netLocalGroups(ctx)
	if uerr != nil {
		if k, err := hklm(`SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList`); err == nil {
			users = usersFromProfileList(k)
			k.Close()
		}
	}
	// A local user's groups are the groups that list it as "MACHINE\name" (a domain account
	// of the same name is someone else).
	machine, _ := windows.ComputerName()
	byName := map[string]int{}
	for i, u := range users {
		byName[strings.ToLower(u.Name)] = i
	}
	for _, g := range groups {
		for _, m := range g.Members {
			name := m
			if i := strings.LastIndexByte(m, '\\'); i >= 0 {
				if !strings.EqualFold(m[:i], machine) {
					continue
				}
				name = m[i+1:]
			}
			if i, ok := byName[strings.ToLower(name)]; ok {
				users[i].Groups = append(users[i].Groups, g.Name)
			}
		}
	}
	inv.Users, inv.Groups = users, groups
	if len(users) == 0 && uerr != nil {
		return fmt.Errorf("local users: %w", uerr)
	}
	if gerr != nil {
		return fmt.Errorf("local groups: %w", gerr)
	}
	return nil
}

func netUsers() ([]inventory.User, error) {
	var out []inventory.User
	// Qualify names with the computer name: on a domain member a bare name can resolve to a
	// domain account of the same name.
	machine, _ := windows.ComputerName()
	var resume uint32
	for range maxNetPages {
		var buf *byte
		var read, total uint32
		err := windows.NetUserEnum(nil, 20, filterNormalAccount, &buf, maxPreferredLength, &read, &total, &resume)
		if err != nil && !isMoreData(err) {
			return out, fmt.Errorf("NetUserEnum: %w", err)
		}
		if buf != nil {
			for _, e := range unsafe.Slice((*userInfo20)(unsafe.Pointer(buf)), read) {
				u := inventory.User{
					Name:     windows.UTF16PtrToString(e.Name),
					FullName: windows.UTF16PtrToString(e.FullName),
					Disabled: e.Flags&ufAccountDisable != 0,
				}
				if sid, _, _, err := windows.LookupSID("", machine+`\`+u.Name); err == nil {
					u.UID = sid.String()
				}
				out = append(out, u)
			}
			windows.NetApiBufferFree(buf)
		}
		if err == nil {
			return out, nil
		}
	}
	return out, errors.New("NetUserEnum: too many pages")
}

func netLocalGroups(ctx context.Context) ([]inventory.Group, error) {
	if err := procNetLocalGroupEnum.Find(); err != nil {
		return nil, fmt.Errorf("NetLocalGroupEnum: %w", err)
	}
	var out []inventory.Group
	var resume uintptr
	for range maxNetPages {
		var buf *byte
		var read, total uint32
		r, _, _ := procNetLocalGroupEnum.Call(0, 1, uintptr(unsafe.Pointer(&buf)), maxPreferredLength,
			uintptr(unsafe.Pointer(&read)), uintptr(unsafe.Pointer(&total)), uintptr(unsafe.Pointer(&resume)))
		err := netAPIStatus(r)
		if err != nil && !isMoreData(err) {
			return out, fmt.Errorf("NetLocalGroupEnum: %w", err)
		}
		if buf != nil {
			for _, e := range unsafe.Slice((*localGroupInfo1)(unsafe.Pointer(buf)), read) {
				g := inventory.Group{Name: windows.UTF16PtrToString(e.Name)}
				if sid, _, _, err := windows.LookupSID("", g.Name); err == nil {
					g.GID = sid.String()
				}
				g.Members, _ = localGroupMembers(e.Name)
				out = append(out, g)
			}
			windows.NetApiBufferFree(buf)
		}
		if err == nil || ctx.Err() != nil {
			return out, ctx.Err()
		}
	}
	return out, errors.New("NetLocalGroupEnum: too many pages")
}

func localGroupMembers(group *uint16) ([]string, error) {
	var out []string
	var resume uintptr
	for range maxNetPages {
		var buf *byte
		var read, total uint32
		r, _, _ := procNetLocalGroupGetMembers.Call(0, uintptr(unsafe.Pointer(group)), 3, uintptr(unsafe.Pointer(&buf)),
			maxPreferredLength, uintptr(unsafe.Pointer(&read)), uintptr(unsafe.Pointer(&total)), uintptr(unsafe.Pointer(&resume)))
		err := netAPIStatus(r)
		if err != nil && !isMoreData(err) {
			return out, fmt.Errorf("NetLocalGroupGetMembers: %w", err)
		}
		if buf != nil {
			for _, e := range unsafe.Slice((*localGroupMembersInfo3)(unsafe.Pointer(buf)), read) {
				out = append(out, windows.UTF16PtrToString(e.DomainAndName))
			}
			windows.NetApiBufferFree(buf)
		}
		if err == nil {
			sort.Strings(out)
			return out, nil
		}
	}
	return out, errors.New("NetLocalGroupGetMembers: too many pages")
}

// wtsInfo is WTSINFOW (wtsapi32.h).
type wtsInfo struct {
	State, SessionID                       uint32
	InBytes, OutBytes, InFrames, OutFrames uint32
	InCompressedBytes, OutCompressedBytes  uint32
	WinStationName                         [32]uint16
	Domain                                 [17]uint16
	UserName                               [21]uint16
	ConnectTime, DisconnectTime, LastInput int64
	LogonTime, CurrentTime                 int64
}

const (
	wtsSessionInfo = 24 // WTS_INFO_CLASS WTSSessionInfo
	wtsClientName  = 10
)

// winCollectSessions lists the users logged on now (console and Remote Desktop) from the
// terminal services session list.
func winCollectSessions(ctx context.Context, inv *inventory.Inventory) error {
	var sessions *windows.WTS_SESSION_INFO
	var count uint32
	if err := windows.WTSEnumerateSessions(0, 0, 1, &sessions, &count); err != nil {
		return fmt.Errorf("WTSEnumerateSessions: %w", err)
	}
	defer windows.WTSFreeMemory(uintptr(unsafe.Pointer(sessions)))
	if err := procWTSQuerySessionInformationW.Find(); err != nil {
		return fmt.Errorf("WTSQuerySessionInformationW: %w", err)
	}
	var errs []error
	for _, s := range unsafe.Slice(sessions, count) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		info, err := wtsQuery(s.SessionID, wtsSessionInfo)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(info) < int(unsafe.Sizeof(wtsInfo{})) {
			continue
		}
		wi := (*wtsInfo)(unsafe.Pointer(&info[0]))
		user := windows.UTF16ToString(wi.UserName[:])
		if user == "" {
			continue // the services session and idle listeners
		}
		if dom := windows.UTF16ToString(wi.Domain[:]); dom != "" {
			user = dom + `\` + user
		}
		us := inventory.UserSession{User: user, Console: windows.UTF16ToString(wi.WinStationName[:])}
		if wi.LogonTime > 0 {
			ft := windows.Filetime{LowDateTime: uint32(wi.LogonTime), HighDateTime: uint32(wi.LogonTime >> 32)}
			us.Since = time.Unix(0, ft.Nanoseconds()).UTC()
		}
		if cn, err := wtsQuery(s.SessionID, wtsClientName); err == nil && len(cn) >= 2 {
			us.Remote = windows.UTF16ToString(unsafe.Slice((*uint16)(unsafe.Pointer(&cn[0])), len(cn)/2))
		}
		inv.Sessions = append(inv.Sessions, us)
	}
	if len(inv.Sessions) == 0 && len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}

// wtsQuery is WTSQuerySessionInformationW, copied out of the WTS buffer.
func wtsQuery(session uint32, class uint32) ([]byte, error) {
	var buf *byte
	var n uint32
	r, _, err := procWTSQuerySessionInformationW.Call(0, uintptr(session), uintptr(class),
		uintptr(unsafe.Pointer(&buf)), uintptr(unsafe.Pointer(&n)))
	if r == 0 {
		return nil, fmt.Errorf("WTSQuerySessionInformation(%d, %d): %w", session, class, err)
	}
	defer windows.WTSFreeMemory(uintptr(unsafe.Pointer(buf)))
	if buf == nil || n == 0 {
		return nil, nil
	}
	return append([]byte(nil), unsafe.Slice(buf, n)...), nil
}
