#############################################################################
##
##  classic.g -- the procedures of the scscp package's example server
##  (example/myserver.g) that Debian's GAP packages allow, under the same
##  names, so that clients and tutorials written for it work here.
##  WS_Factors (integer factorisation) runs for minutes on a 60-digit
##  semiprime: the natural test of runtime limits and termination.
##
LoadPackage( "scscp" );
LoadPackage( "factint" );  # without it Factors gives up on hard numbers at once

InstallSCSCPprocedure( "Identity", x -> x, "Identity procedure for tests", 1, 1 );
InstallSCSCPprocedure( "WS_Factorial", Factorial, "See ?Factorial in GAP", 1, 1 );
InstallSCSCPprocedure( "WS_Phi", Phi, "Euler's totient function, see ?Phi in GAP", 1, 1 );
InstallSCSCPprocedure( "IsPrimeInt", IsPrimeInt, "See ?IsPrimeInt in GAP", 1, 1 );
InstallSCSCPprocedure( "WS_IdGroup", IdGroup, "See ?IdGroup in GAP", 1, 1 );
InstallSCSCPprocedure( "WS_SmallGroup", SmallGroup, "See ?SmallGroup in GAP", 1, 2 );
InstallSCSCPprocedure( "NrConjugacyClasses", NrConjugacyClasses,
    "See ?NrConjugacyClasses in GAP", 1, 1 );
InstallSCSCPprocedure( "Size", Size, "See ?Size in GAP", 1, 1 );
InstallSCSCPprocedure( "Length", Length, "See ?Length in GAP", 1, 1 );
InstallSCSCPprocedure( "WS_Factors", Factors, "See ?Factors in GAP", 1, 1 );
