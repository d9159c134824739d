# XMLRPC::Lite's own daemon. It keeps no types: every scalar arrives as plain text, and
# the answers are typed by their look (autotyping).
use strict;
use warnings;
no warnings 'once';    # the settings come from common.pl, required at run time
use FindBin;
use XMLRPC::Transport::HTTP;
require "$FindBin::Bin/common.pl";

my %known = map { $_ => 1 } @main::METHODS;
our $current;

package Handler;
sub handle {
    my ($class, @params) = @_;
    main::record($main::current, \@params, \&main::describe_plain);
    return main::answer($main::current, @params);
}

package main;
my $daemon = XMLRPC::Transport::HTTP::Daemon->new(
    LocalAddr => '127.0.0.1', LocalPort => $main::PORT, ReuseAddr => 1,
) or die "cannot listen: $!\n";
$daemon->on_dispatch(sub {
    my $method = shift->method;
    # An unknown method gets the stack's own fault, as its default dispatch would give.
    return ($method =~ /^(?:(.*)\.)?(\w+)$/) unless $known{$method};
    $main::current = $method;
    return ('Handler', 'handle');
});
$daemon->dispatch_to('Handler');
$daemon->handle;
