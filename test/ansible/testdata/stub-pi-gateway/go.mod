module stub-pi-gateway

go 1.22
