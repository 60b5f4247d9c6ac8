# Run at build time: load what the worker loads, then print the installation
# folder of every package now loaded, one a line. The image keeps only these
# (about 20 of the 166 packages passagemath ships). Fails the build if one
# of the packages the group counts need cannot be loaded.
for name in [ "scscp", "openmath", "io", "factint", "smallgrp", "cubefree", "sglppow",
              "grpconst" ] do
    if LoadPackage( name, false ) <> true then
        Print( "packages.g: GAP package ", name, " cannot be loaded\n" );
        FORCE_QUIT_GAP( 1 );
    fi;
od;
for name in RecNames( GAPInfo.PackagesLoaded ) do
    Print( GAPInfo.PackagesLoaded.( name )[1], "\n" );
od;
QUIT_GAP( 0 );
