module killswitch/statefeedverify

go 1.22
