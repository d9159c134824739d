# RPC::XML::Server. Top-level parameter types come from the call's signature.
use strict;
use warnings;
no warnings 'once';    # the settings come from common.pl, required at run time
use FindBin;
use RPC::XML;
use RPC::XML::Server;
use RPC::XML::Procedure;
require "$FindBin::Bin/common.pl";

my $server = RPC::XML::Server->new(host => '127.0.0.1', port => $main::PORT, no_default => 1)
    or die "cannot listen\n";
ref $server or die "cannot listen: $server\n";
for my $name (@main::METHODS) {
    $server->add_method(RPC::XML::Function->new(name => $name, code => sub {
        my @types = @{ $server->{signature} // [] };
        shift @types;    # the response type
        my $i = 0;
        main::record($name, [@_], sub {
            my $description = main::describe_plain($_[0]);
            my $type = $types[$i++] // 'scalar';
            $type = 'dateTime' if $type eq 'dateTime.iso8601';
            $description->{type} = $type if $description->{type} eq 'scalar';
            $description->{value} = 0 + $description->{value} if $type =~ /^(?:int|i4|i8)$/;
            return $description;
        });
        return main::answer($name, @_);
    }));
}
$server->server_loop;
