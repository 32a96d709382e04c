package collectors

// categories lists this OS's collectors, one line each.
func categories() []Category {
	return []Category{
		{Name: "os", Collect: collectOS},
	}
}
