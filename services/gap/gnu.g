#############################################################################
##
##  gnu.g -- the number of groups of order n, as the public "groups of order
##  n" SCSCP service answered it, so that its clients work unchanged.
##
##  Sources are consulted in this order and the first that knows n wins:
##    1. the Small Groups library (NumberSmallGroupsAvailable), extended by
##       the SglPPow package when it is installed (p^7 for p > 11, and 3^8);
##    2. the CubeFree package, when it is installed, for cube-free orders;
##    3. a table of published values, for servers without SglPPow (3^8);
##    4. O'Brien and Vaughan-Lee's formula for p^7, p > 5, likewise.
##  The packages come first because they hold the groups themselves; where
##  sources overlap they agree (checked in the scscp/gap-full image: SglPPow
##  against the table and the formula, CubeFree against the library), so the
##  answer never depends on the server, only GnuExplained's source does.
##  Debian's GAP 4.12 has neither package: 3. and 4. answer there.
##  Unknown orders answer `false`; anything but a positive integer is an error.
##  Orders above 10^30 are not factorised (that alone could take hours): of
##  them only p^7 is answered.
##

LoadPackage( "scscp" );

# Values checked against a GAP with the SglPPow package (3^8).
GNU_PUBLISHED := [ [ 3^8, 1396077 ] ];

GnuLoad := name -> TestPackageAvailability( name ) <> fail
                   and LoadPackage( name, false ) = true;
GNU_HAVE_SGLPPOW := GnuLoad( "sglppow" );
GNU_HAVE_CUBEFREE := GnuLoad( "cubefree" );

# The libraries factorise n to see whether they know it, which for a number
# of hundreds of digits takes longer than any client waits: above this bound
# only the p^7 test (a seventh root) is tried, and anything else is unknown.
GNU_MAX_FACTORISED := 10^30;

# The orders SglPPow adds to the Small Groups library (its README): p^7 for
# primes p > 11, and 3^8. Only for naming the source.
GnuFromSglPPow := function( n )
    local p;
    if not GNU_HAVE_SGLPPOW then
        return false;
    fi;
    p := RootInt( n, 7 );
    return n = 3^8 or ( p^7 = n and p > 11 and IsPrimeInt( p ) );
end;

# n = p^7 with p prime, p > 5: the count as a polynomial in p with gcd terms
# (M. F. Newman, E. A. O'Brien, M. R. Vaughan-Lee, J. Algebra 2004).
GnuPrimeSeventh := function( n )
    local p, g;
    p := RootInt( n, 7 );
    if p < 7 or p ^ 7 <> n or not IsPrimeInt( p ) then
        return fail;
    fi;
    g := k -> Gcd( p - 1, k );
    return 3*p^5 + 12*p^4 + 44*p^3 + 170*p^2 + 707*p + 2455
           + ( 4*p^2 + 44*p + 291 ) * g( 3 ) + ( p^2 + 19*p + 135 ) * g( 4 )
           + ( 3*p + 31 ) * g( 5 ) + 4 * g( 7 ) + 5 * g( 8 ) + g( 9 );
end;

# How an argument is quoted in an error: as GAP shows it, cut if long (a
# client that sent a list of 10^5 entries does not want it echoed back).
# ViewString's line-break hints (characters 1 and 2) are not text: XML
# cannot carry them.
GnuShow := function( x )
    local s;
    s := Filtered( ViewString( x ), c -> INT_CHAR( c ) > 2 );
    if Length( s ) > 60 then
        return Concatenation( s{ [ 1 .. 50 ] }, "... (", String( Length( s ) ), " characters)" );
    fi;
    return s;
end;

# [ number or false, text naming the source ]
GnuExplained := function( arg )
    local n, entry, count;
    if Length( arg ) <> 1 then
        Error( "Gnu takes one argument, the order n; got ", Length( arg ) );
    fi;
    n := arg[1];
    if not IsInt( n ) or n <= 0 then
        Error( "the order must be a positive integer, got ", GnuShow( n ) );
    fi;
    if n > GNU_MAX_FACTORISED then
        count := GnuPrimeSeventh( n );
        if count <> fail then
            return [ count, "formula of Newman, O'Brien and Vaughan-Lee for p^7" ];
        fi;
        return [ false, Concatenation( "unknown: this server does not factorise orders ",
                                       "above 10^30, and ", GnuShow( n ), " is not p^7" ) ];
    fi;
    if NumberSmallGroupsAvailable( n ) then
        if GnuFromSglPPow( n ) then
            return [ NumberSmallGroups( n ), "SglPPow package (NumberSmallGroups)" ];
        fi;
        return [ NumberSmallGroups( n ), "Small Groups library (NumberSmallGroups)" ];
    fi;
    # ValueGlobal: these names exist only once CubeFree is loaded.
    if GNU_HAVE_CUBEFREE and ValueGlobal( "IsCubeFreeInt" )( n ) then
        return [ ValueGlobal( "NumberCFGroups" )( n ), "CubeFree package (NumberCFGroups)" ];
    fi;
    entry := First( GNU_PUBLISHED, e -> e[1] = n );
    if entry <> fail then
        return [ entry[2], "published value (table of this service)" ];
    fi;
    count := GnuPrimeSeventh( n );
    if count <> fail then
        return [ count, "formula of Newman, O'Brien and Vaughan-Lee for p^7" ];
    fi;
    return [ false, Concatenation( "unknown: no library on this server knows ",
                                   "the number of groups of order ", String( n ) ) ];
end;

Gnu := function( arg )
    return CallFuncList( GnuExplained, arg )[1];
end;

# A checked wrapper: GAP's own NrSmallGroups answers `fail` for unknown
# orders, which its OpenMath encoder cannot write (the reply would be cut).
GnuNrSmallGroups := function( arg )
    local n;
    if Length( arg ) <> 1 or not IsPosInt( arg[1] ) then
        Error( "NrSmallGroups takes one positive integer" );
    fi;
    n := arg[1];
    if not NumberSmallGroupsAvailable( n ) then
        Error( "the Small Groups library does not know the groups of order ", n );
    fi;
    return NumberSmallGroups( n );
end;

InstallSCSCPprocedure( "Gnu", Gnu,
    "the number of groups of order n, or false when it is unknown", 1, 1 );
InstallSCSCPprocedure( "GnuExplained", GnuExplained,
    "[ number of groups of order n or false, the source of that number ]", 1, 1 );
InstallSCSCPprocedure( "NrSmallGroups", GnuNrSmallGroups,
    "the number of groups of order n in the Small Groups library", 1, 1 );
