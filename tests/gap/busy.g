# A procedure for tests only: a real GAP computation that keeps a worker busy
# for a given number of CPU seconds, so a test can act while a call runs.
InstallSCSCPprocedure( "Busy", function( seconds )
    local start;
    start := Runtime();
    while Runtime() - start < seconds * 1000 do od;
    return seconds;
end, "spin for the given number of CPU seconds", 1, 1 );

# GAP's OpenMath encoder cannot write `fail`: its reply is cut short and the
# session closed. A real quirk of GAP that the gateway must absorb.
InstallSCSCPprocedure( "ReturnFail", x -> fail, "answers fail", 1, 1 );
